using System.Globalization;
using EdgeOpt.Onnx.Ir;

namespace EdgeOpt.Pipeline.Data.Images;

/// <summary>Tensor layout of a preprocessed image batch.</summary>
public enum ImageLayout { Nchw, Nhwc }

/// <summary>
/// How an image becomes a model input: bilinear resize (PIL's, antialiased when shrinking), then per channel
/// <c>(pixel · scale − mean) / std</c>, in RGB or BGR order, laid out NCHW or NHWC with a batch of one.
/// Parsed from <c>resize=320x320,scale=1/255,mean=0.485/0.456/0.406,std=0.229/0.224/0.225,layout=nchw,channels=rgb</c>.
/// </summary>
public sealed record ImagePreprocess
{
    public int? Width { get; init; }
    public int? Height { get; init; }
    public double Scale { get; init; } = 1.0 / 255;
    public double[] Mean { get; init; } = [0, 0, 0];
    public double[] Std { get; init; } = [1, 1, 1];
    public ImageLayout Layout { get; init; } = ImageLayout.Nchw;
    public bool Bgr { get; init; }

    /// <summary>Parses the comma-separated spec; every error names the key and shows a valid example.</summary>
    public static ImagePreprocess Parse(string spec)
    {
        var p = new ImagePreprocess();
        foreach (var part in spec.Split(',', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries))
        {
            var eq = part.IndexOf('=');
            if (eq <= 0) throw Error($"'{part}' is not KEY=VALUE");
            var (key, value) = (part[..eq].ToLowerInvariant(), part[(eq + 1)..]);
            p = key switch
            {
                "resize" => value.Split('x') is [var w, var h] && int.TryParse(w, out var wi) && int.TryParse(h, out var hi) && wi > 0 && hi > 0
                    ? p with { Width = wi, Height = hi }
                    : throw Error($"resize '{value}' is not WIDTHxHEIGHT"),
                "scale" => p with { Scale = Number(value, key) },
                "mean" => p with { Mean = Triple(value, key) },
                "std" => p with { Std = Triple(value, key) is var s && s.All(x => x != 0) ? s : throw Error("std must not be zero") },
                "layout" => p with { Layout = value.ToLowerInvariant() switch { "nchw" => ImageLayout.Nchw, "nhwc" => ImageLayout.Nhwc, _ => throw Error($"layout '{value}' is not nchw or nhwc") } },
                "channels" => p with { Bgr = value.ToLowerInvariant() switch { "rgb" => false, "bgr" => true, _ => throw Error($"channels '{value}' is not rgb or bgr") } },
                _ => throw Error($"unknown key '{key}'"),
            };
        }
        return p;
    }

    /// <summary>The image as a float tensor [1,3,H,W] (NCHW) or [1,H,W,3] (NHWC) named <paramref name="name"/>.</summary>
    public Tensor Apply(RgbImage image, string name)
    {
        var resized = Resize(image, Width ?? image.Width, Height ?? image.Height);
        int w = resized.Width, h = resized.Height;
        var data = new float[3 * w * h];
        for (var y = 0; y < h; y++)
        {
            for (var x = 0; x < w; x++)
            {
                for (var c = 0; c < 3; c++)
                {
                    var v = resized[x, y, Bgr ? 2 - c : c];
                    var index = Layout == ImageLayout.Nchw ? (c * h + y) * w + x : (y * w + x) * 3 + c;
                    data[index] = (float)((v * Scale - Mean[c]) / Std[c]);
                }
            }
        }
        long[] dims = Layout == ImageLayout.Nchw ? [1, 3, h, w] : [1, h, w, 3];
        return Tensor.Create(name, dims, data);
    }

    /// <summary>
    /// Bilinear resize as PIL's <c>Image.resize(BILINEAR)</c> does it (and torchvision with antialias): a triangle
    /// filter widened by the scale factor when shrinking, horizontal pass then vertical, rounded to 8 bits after each.
    /// </summary>
    public static RgbImage Resize(RgbImage image, int width, int height)
    {
        if (width == image.Width && height == image.Height) return image;
        var horizontal = Pass(image.Pixels, image.Width, image.Height, width, horizontalPass: true);
        var both = Pass(horizontal, width, image.Height, height, horizontalPass: false);
        return new RgbImage(width, height, both);
    }

    private static byte[] Pass(byte[] source, int inWidth, int inHeight, int outSize, bool horizontalPass)
    {
        var inSize = horizontalPass ? inWidth : inHeight;
        var (starts, weights) = Coefficients(inSize, outSize);
        int outWidth = horizontalPass ? outSize : inWidth, outHeight = horizontalPass ? inHeight : outSize;
        var result = new byte[outWidth * outHeight * 3];
        for (var y = 0; y < outHeight; y++)
        {
            for (var x = 0; x < outWidth; x++)
            {
                var o = horizontalPass ? x : y;
                for (var c = 0; c < 3; c++)
                {
                    double sum = 0;
                    for (var k = 0; k < weights[o].Length; k++)
                    {
                        var i = starts[o] + k;
                        sum += weights[o][k] * source[((horizontalPass ? y * inWidth + i : i * inWidth + x) * 3) + c];
                    }
                    result[(y * outWidth + x) * 3 + c] = (byte)Math.Clamp(Math.Round(sum, MidpointRounding.AwayFromZero), 0, 255);
                }
            }
        }
        return result;
    }

    /// <summary>Per output pixel: the first input pixel and the normalized triangle-filter weights (PIL's precompute_coeffs).</summary>
    private static (int[] Starts, double[][] Weights) Coefficients(int inSize, int outSize)
    {
        var scale = inSize / (double)outSize;
        var filterScale = Math.Max(scale, 1.0);
        var support = filterScale;
        var starts = new int[outSize];
        var weights = new double[outSize][];
        for (var o = 0; o < outSize; o++)
        {
            var center = (o + 0.5) * scale;
            var min = Math.Max(0, (int)(center - support + 0.5));
            var max = Math.Min(inSize, (int)(center + support + 0.5));
            var k = new double[Math.Max(0, max - min)];
            double total = 0;
            for (var i = 0; i < k.Length; i++)
            {
                var t = Math.Abs((i + min - center + 0.5) / filterScale);
                k[i] = t < 1 ? 1 - t : 0;
                total += k[i];
            }
            for (var i = 0; i < k.Length && total > 0; i++) k[i] /= total;
            starts[o] = min;
            weights[o] = k;
        }
        return (starts, weights);
    }

    private static double Number(string text, string key)
    {
        var parts = text.Split('/');
        if (parts.Length is 1 or 2 && parts.All(s => double.TryParse(s, NumberStyles.Float, CultureInfo.InvariantCulture, out _)))
        {
            var v = double.Parse(parts[0], CultureInfo.InvariantCulture);
            return parts.Length == 2 ? v / double.Parse(parts[1], CultureInfo.InvariantCulture) : v;
        }
        throw Error($"{key} '{text}' is not a number or a fraction like 1/255");
    }

    private static double[] Triple(string text, string key)
    {
        var parts = text.Split('/');
        if (parts.Length == 1) return [.. Enumerable.Repeat(Number(parts[0], key), 3)];
        if (parts.Length != 3) throw Error($"{key} '{text}' needs one value or three (R/G/B), like 0.485/0.456/0.406");
        return [.. parts.Select(s => Number(s, key))];
    }

    private static ArgumentException Error(string message) => new(
        $"--image-preprocess: {message}; example: resize=320x320,scale=1/255,mean=0.485/0.456/0.406,std=0.229/0.224/0.225,layout=nchw,channels=rgb");
}
