using EdgeOpt.Passes.Core;
using EdgeOpt.Passes.Factorization;

namespace EdgeOpt.Passes.Tests.Factorization;

/// <summary>Validation of the factorization options: each bad value gives a message naming its option; the catalog builds both passes.</summary>
public class FactorizeOptionsTests
{
    [Test]
    public void Defaults_AreValid()
    {
        Assert.That(new FactorizeSvdOptions().Validate(), Is.Empty);
        Assert.That(new FactorizeConvOptions().Validate(), Is.Empty);
    }

    [TestCase(0.0, "Energy")]
    [TestCase(1.5, "Energy")]
    [TestCase(double.NaN, "Energy")]
    public void BadEnergy_Named(double energy, string option) =>
        Assert.That(new FactorizeSvdOptions { Energy = energy }.Validate(), Has.Some.StartsWith(option));

    [Test]
    public void EveryBadValue_NamedInTheException()
    {
        var options = new FactorizeSvdOptions
        {
            RankRatio = 0,
            RankMultiple = 0,
            RandomizedMinDim = 0,
            Oversampling = -1,
            PowerIterations = -2,
            MaxParallelism = 0,
            IncludeOpTypes = ["Relu"],
        };

        var e = Assert.Throws<ArgumentException>(() => _ = new FactorizeSvdPass(options))!;

        foreach (var name in new[] { "RankRatio", "RankMultiple", "RandomizedMinDim", "Oversampling", "PowerIterations", "MaxParallelism", "IncludeOpTypes: 'Relu'" })
        {
            Assert.That(e.Message, Does.Contain(name));
        }
        Assert.That(e.Message, Does.StartWith("invalid options for pass 'factorize-svd'"));
    }

    [Test]
    public void ConvOptions_CheckTheirOwnValues()
    {
        var problems = new FactorizeConvOptions { Method = (ConvFactorization)17, HooiIterations = -1, CpIterations = 0, ExcludeNodes = [" "] }.Validate().ToList();

        Assert.That(problems, Has.Some.StartsWith("Method 17"));
        Assert.That(problems, Has.Some.StartsWith("HooiIterations"));
        Assert.That(problems, Has.Some.StartsWith("CpIterations"));
        Assert.That(problems, Has.Some.StartsWith("ExcludeNodes has a blank entry"));
    }

    [Test]
    public void Catalog_BuildsBothPasses()
    {
        var catalog = PassCatalog.CreateDefault();

        Assert.That(catalog.Create(FactorizeSvdPass.PassId), Is.InstanceOf<FactorizeSvdPass>().With.Property(nameof(IPass.IsExact)).False);
        Assert.That(catalog.Create(FactorizeConvPass.PassId, new FactorizeConvOptions { Method = ConvFactorization.SpatialSvd }), Is.InstanceOf<FactorizeConvPass>());
    }
}
