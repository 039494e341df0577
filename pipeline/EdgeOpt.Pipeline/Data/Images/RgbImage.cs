namespace EdgeOpt.Pipeline.Data.Images;

/// <summary>An 8-bit RGB image, row-major, 3 bytes per pixel (alpha dropped, gray replicated).</summary>
public sealed class RgbImage
{
    public RgbImage(int width, int height, byte[] pixels)
    {
        if (width <= 0 || height <= 0) throw new ArgumentException($"image size {width}x{height} is empty");
        if (pixels.Length != checked(width * height * 3)) throw new ArgumentException($"{pixels.Length} bytes do not make a {width}x{height} RGB image");
        Width = width;
        Height = height;
        Pixels = pixels;
    }

    public int Width { get; }
    public int Height { get; }
    public byte[] Pixels { get; }

    /// <summary>Channel <paramref name="c"/> (0 R, 1 G, 2 B) at (x, y).</summary>
    public byte this[int x, int y, int c] => Pixels[(y * Width + x) * 3 + c];
}

/// <summary>Reads the image formats EdgeOpt decodes itself: PNG, and binary or text PPM/PGM.</summary>
public static class ImageFiles
{
    /// <summary>Decodes <paramref name="path"/> by its content; JPEG and other formats get an error saying to convert them.</summary>
    public static RgbImage Read(string path)
    {
        var bytes = File.ReadAllBytes(path);
        try
        {
            if (PngDecoder.IsPng(bytes)) return PngDecoder.Decode(bytes);
            if (bytes.Length >= 2 && bytes[0] == 'P' && bytes[1] is (byte)'2' or (byte)'3' or (byte)'5' or (byte)'6') return PnmDecoder.Decode(bytes);
        }
        catch (InvalidDataException e)
        {
            throw new InvalidDataException($"{path}: {e.Message}", e);
        }
        if (bytes.Length >= 3 && bytes[0] == 0xFF && bytes[1] == 0xD8 && bytes[2] == 0xFF)
        {
            throw new InvalidDataException($"{path} is a JPEG; EdgeOpt decodes PNG and PPM/PGM only (no image library is available to it): " +
                "convert the images first, e.g. `mogrify -format png *.jpg` or `ffmpeg -i in.jpg out.png`");
        }
        throw new InvalidDataException($"{path} is not a PNG, PPM or PGM image; convert it to PNG");
    }

    /// <summary>The image files EdgeOpt can read in <paramref name="directory"/>, sorted by name (JPEGs included, to be refused clearly).</summary>
    public static IReadOnlyList<string> List(string directory) =>
        [.. Directory.EnumerateFiles(directory)
            .Where(f => Path.GetExtension(f).ToLowerInvariant() is ".png" or ".ppm" or ".pgm" or ".pnm" or ".jpg" or ".jpeg")
            .Order(StringComparer.Ordinal)];
}
