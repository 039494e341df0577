using EdgeOpt.Passes.Cleanup;
using EdgeOpt.Passes.Core;

namespace EdgeOpt.Passes.Tests.Core;

public class PassCatalogTests
{
    [Test]
    public void CleanupSequence_IsTheExactCleanupPassesInOrder()
    {
        Assert.That(PassCatalog.CleanupSequence, Is.EqualTo(new[]
        {
            HoistConstantsPass.PassId, EliminateIdentityPass.PassId, FoldConvAffinePass.PassId, FoldBatchNormPass.PassId,
            FoldTransposeReshapePass.PassId, EliminateDeadCodePass.PassId,
        }));
    }

    [Test]
    public void CleanupSequence_EveryPassIsRegisteredAndExact()
    {
        var catalog = PassCatalog.CreateDefault();
        foreach (var id in PassCatalog.CleanupSequence)
        {
            var pass = catalog.Create(id);
            Assert.That(pass.Id, Is.EqualTo(id));
            Assert.That(pass.IsExact, Is.True, id);
        }
    }

    [Test]
    public void RemoveInitializerInputs_RegisteredButNotInCleanup()
    {
        var catalog = PassCatalog.CreateDefault();

        Assert.That(catalog.Create(RemoveInitializerInputsPass.PassId), Is.InstanceOf<RemoveInitializerInputsPass>());
        Assert.That(PassCatalog.CleanupSequence, Does.Not.Contain(RemoveInitializerInputsPass.PassId), "it changes the model's interface");
    }

    [Test]
    public void Catalog_IdsAreUniqueKebabCaseWithDescriptions()
    {
        var passes = PassCatalog.CreateDefault().Passes;

        Assert.That(passes.Select(p => p.Id), Is.Unique);
        Assert.That(passes.Select(p => p.Id), Has.All.Match("^[a-z]+(-[a-z]+)*$"));
        Assert.That(passes.Select(p => p.Description), Has.None.Empty);
    }
}
