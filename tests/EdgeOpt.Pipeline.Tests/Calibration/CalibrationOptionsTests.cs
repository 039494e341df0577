using EdgeOpt.Pipeline.Calibration;

namespace EdgeOpt.Pipeline.Tests.Calibration;

public class CalibrationOptionsTests
{
    [Test]
    public void Defaults_AreValid()
    {
        var options = new CalibrationOptions();

        Assert.That(options.Validate(), Is.Empty);
        Assert.That((options.Method, options.Bins, options.Percentile, options.QuantizedLevels), Is.EqualTo((CalibrationMethod.MinMax, 2048, 99.999, 128)));
    }

    [Test]
    public void Invalid_EveryProblemNamed()
    {
        var options = new CalibrationOptions { Bins = 3, Percentile = 0, QuantizedLevels = 1, MaxSamples = 0 };

        var problems = options.Validate().ToList();

        Assert.That(problems, Has.Count.EqualTo(4));
        Assert.That(string.Join("\n", problems), Does.Contain("bins").And.Contain("percentile").And.Contain("levels").And.Contain("max samples"));
        Assert.That(Assert.Throws<ArgumentException>(options.ThrowIfInvalid)!.Message, Does.Contain("2048"));
    }

    [Test]
    public void Entropy_NeedsAsManyBinsAsLevels()
    {
        var problems = new CalibrationOptions { Method = CalibrationMethod.Entropy, Bins = 64, QuantizedLevels = 128 }.Validate();

        Assert.That(problems.Single(), Does.Contain("entropy"));
    }

    [TestCase("minmax", CalibrationMethod.MinMax)]
    [TestCase("Percentile", CalibrationMethod.Percentile)]
    [TestCase(" entropy ", CalibrationMethod.Entropy)]
    [TestCase("MSE", CalibrationMethod.Mse)]
    public void Parse_Names(string text, CalibrationMethod expected) => Assert.That(CalibrationMethods.Parse(text), Is.EqualTo(expected));

    [Test]
    public void Parse_Unknown_ListsTheMethods()
    {
        var e = Assert.Throws<ArgumentException>(() => CalibrationMethods.Parse("kl"))!;
        Assert.That(e.Message, Does.Contain("minmax, percentile, entropy, mse"));
    }

    [Test]
    public void Describe_NamesTheParameters()
    {
        Assert.That(new CalibrationOptions { Method = CalibrationMethod.Percentile }.Describe(), Is.EqualTo("percentile 99.999, 2048 bins"));
        Assert.That(new CalibrationOptions { Method = CalibrationMethod.Entropy }.Describe(), Is.EqualTo("entropy, 2048 bins, 128 levels"));
    }
}
