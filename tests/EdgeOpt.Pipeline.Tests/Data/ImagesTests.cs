using EdgeOpt.Onnx.IO;
using EdgeOpt.Pipeline.Data;
using EdgeOpt.Pipeline.Data.Images;
using EdgeOpt.TestKit;

namespace EdgeOpt.Pipeline.Tests.Data;

public class ImagesTests
{
    private static byte R(int x, int y) => (byte)(x * 37 + y * 11);
    private static byte G(int x, int y) => (byte)(x * 5 + y * 71 + 3);
    private static byte B(int x, int y) => (byte)(x * y + 100);

    [TestCase(false)]
    [TestCase(true)]
    public void Png_Rgb8AllFilters_DecodesExactly(bool interlaced)
    {
        var png = PngWriter.Encode(13, 11, 2, 8, (x, y) => [R(x, y), G(x, y), B(x, y)], interlaced);

        var image = PngDecoder.Decode(png);

        Assert.That((image.Width, image.Height), Is.EqualTo((13, 11)));
        for (var y = 0; y < 11; y++)
        {
            for (var x = 0; x < 13; x++)
            {
                Assert.That(new[] { image[x, y, 0], image[x, y, 1], image[x, y, 2] }, Is.EqualTo(new[] { R(x, y), G(x, y), B(x, y) }), $"pixel ({x},{y})");
            }
        }
    }

    [Test]
    public void Png_Rgba16_KeepsHighBytesDropsAlpha()
    {
        var png = PngWriter.Encode(5, 4, 6, 16, (x, y) => [R(x, y), 7, G(x, y), 7, B(x, y), 7, 255, 255]);
        var image = PngDecoder.Decode(png);
        Assert.That(new[] { image[3, 2, 0], image[3, 2, 1], image[3, 2, 2] }, Is.EqualTo(new[] { R(3, 2), G(3, 2), B(3, 2) }));
    }

    [Test]
    public void Png_GrayAlpha8_ReplicatesGray()
    {
        var png = PngWriter.Encode(6, 3, 4, 8, (x, y) => [R(x, y), 128]);
        var image = PngDecoder.Decode(png);
        Assert.That(new[] { image[4, 1, 0], image[4, 1, 1], image[4, 1, 2] }, Has.All.EqualTo(R(4, 1)));
    }

    [Test]
    public void Png_Palette2Bit_LooksUpColors()
    {
        byte[] palette = [255, 0, 0, 0, 255, 0, 0, 0, 255, 9, 9, 9];
        var png = PngWriter.Encode(7, 5, 3, 2, (x, y) => [(byte)((x + y) % 4)], palette: palette);

        var image = PngDecoder.Decode(png);

        var index = (3 + 2) % 4;
        Assert.That(new[] { image[3, 2, 0], image[3, 2, 1], image[3, 2, 2] }, Is.EqualTo(palette[(index * 3)..(index * 3 + 3)]));
    }

    [Test]
    public void Png_Gray1Bit_ScalesToFullRange()
    {
        var png = PngWriter.Encode(9, 2, 0, 1, (x, y) => [(byte)(x % 2)]);
        var image = PngDecoder.Decode(png);
        Assert.That(new[] { image[0, 0, 0], image[1, 0, 0] }, Is.EqualTo(new byte[] { 0, 255 }));
    }

    [Test]
    public void Png_TruncatedData_ClearError()
    {
        var png = PngWriter.Encode(8, 8, 2, 8, (x, y) => [1, 2, 3]);
        Assert.Throws<InvalidDataException>(() => PngDecoder.Decode(png[..^30]));
    }

    [Test]
    public void Ppm_TextAndBinary_SamePixels()
    {
        var text = "P3\n# comment\n2 1\n255\n10 20 30  40 50 60\n"u8.ToArray();
        byte[] binary = [.. "P6 2 1 255\n"u8.ToArray(), 10, 20, 30, 40, 50, 60];
        Assert.That(PnmDecoder.Decode(text).Pixels, Is.EqualTo(new byte[] { 10, 20, 30, 40, 50, 60 }));
        Assert.That(PnmDecoder.Decode(binary).Pixels, Is.EqualTo(new byte[] { 10, 20, 30, 40, 50, 60 }));
    }

    [Test]
    public void Jpeg_RefusedWithConversionAdvice()
    {
        var path = Path.Combine(Path.GetTempPath(), $"edgeopt-{Guid.NewGuid():N}.jpg");
        File.WriteAllBytes(path, [0xFF, 0xD8, 0xFF, 0xE0, 0, 16]);
        try
        {
            var e = Assert.Throws<InvalidDataException>(() => ImageFiles.Read(path))!;
            Assert.That(e.Message, Does.Contain("JPEG").And.Contain("convert"));
        }
        finally
        {
            File.Delete(path);
        }
    }

    [Test]
    public void FastestDetSample_PreprocessReproducesTheStoredInput()
    {
        var image = ImageFiles.Read(TestPaths.RequireShared("models", "fastestdet_wolves_sample.png"));
        var expected = TensorFiles.Read(TestPaths.RequireShared("data", "fastestdet", "test_data_set_0", "input_0.pb")).ToSingles();

        var tensor = ImagePreprocess.Parse("resize=352x352,scale=1/255,channels=bgr,layout=nchw").Apply(image, "input");

        Assert.That(tensor.Dims, Is.EqualTo(new long[] { 1, 3, 352, 352 }));
        var actual = tensor.ToSingles();
        var diffs = actual.Zip(expected, (a, b) => Math.Abs(a - b)).ToArray();
        TestContext.Out.WriteLine($"mean |diff| {diffs.Average() * 255:F3}/255, max {diffs.Max() * 255:F1}/255");
        Assert.That(diffs.Average(), Is.LessThan(0.05 / 255), "PIL-compatible bilinear resampling");
        Assert.That(diffs.Max(), Is.LessThanOrEqualTo(1.01 / 255));
    }

    [Test]
    public void PreprocessSpec_BadKey_ErrorShowsExample()
    {
        var e = Assert.Throws<ArgumentException>(() => ImagePreprocess.Parse("resize=320,mean=1"))!;
        Assert.That(e.Message, Does.Contain("WIDTHxHEIGHT").And.Contain("example: resize="));
    }

    [Test]
    public void PreprocessSpec_MeanStdAndNhwc_Applied()
    {
        var image = new RgbImage(1, 1, [255, 0, 51]);
        var t = ImagePreprocess.Parse("scale=1/255,mean=0.5/0.5/0.5,std=0.5,layout=nhwc").Apply(image, "x");
        Assert.That(t.Dims, Is.EqualTo(new long[] { 1, 1, 1, 3 }));
        Assert.That(t.ToSingles(), Is.EqualTo(new[] { 1f, -1f, -0.6f }).Within(1e-6));
    }

    [Test]
    public void Npy_Float32C_ReadsShapeAndValues()
    {
        var header = "{'descr': '<f4', 'fortran_order': False, 'shape': (2, 3), }";
        header = header.PadRight(118 - 10 - 1) + "\n";
        var bytes = new List<byte> { 0x93, (byte)'N', (byte)'U', (byte)'M', (byte)'P', (byte)'Y', 1, 0 };
        bytes.AddRange(BitConverter.GetBytes((ushort)header.Length));
        bytes.AddRange(System.Text.Encoding.ASCII.GetBytes(header));
        foreach (var f in new[] { 1f, 2, 3, 4, 5, 6 }) bytes.AddRange(BitConverter.GetBytes(f));
        var path = Path.Combine(Path.GetTempPath(), $"edgeopt-{Guid.NewGuid():N}.npy");
        File.WriteAllBytes(path, [.. bytes]);
        try
        {
            var t = NpyFiles.Read(path, "x");
            Assert.That(t.Dims, Is.EqualTo(new long[] { 2, 3 }));
            Assert.That(t.ToSingles(), Is.EqualTo(new[] { 1f, 2, 3, 4, 5, 6 }));
        }
        finally
        {
            File.Delete(path);
        }
    }
}
