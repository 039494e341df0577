using System.Buffers.Binary;
using System.IO.Compression;

namespace EdgeOpt.Pipeline.Data.Images;

/// <summary>
/// A PNG decoder on the BCL's zlib (no image library is on our package mirror): all color types, bit depths 1–16,
/// palettes, Adam7 interlacing; the five scanline filters. Output is 8-bit RGB (16-bit samples keep their high byte,
/// alpha is dropped, gray is replicated). CRCs are not checked: zlib's Adler-32 covers the image data.
/// </summary>
public static class PngDecoder
{
    private static ReadOnlySpan<byte> Signature => [0x89, (byte)'P', (byte)'N', (byte)'G', 0x0D, 0x0A, 0x1A, 0x0A];

    public static bool IsPng(ReadOnlySpan<byte> bytes) => bytes.StartsWith(Signature);

    private sealed record Header(int Width, int Height, int BitDepth, int ColorType, bool Interlaced)
    {
        public int Channels => ColorType switch { 0 => 1, 2 => 3, 3 => 1, 4 => 2, 6 => 4, _ => throw new InvalidDataException($"PNG color type {ColorType} is invalid") };
        public int BitsPerPixel => Channels * BitDepth;
    }

    public static RgbImage Decode(byte[] bytes)
    {
        if (!IsPng(bytes)) throw new InvalidDataException("not a PNG file");
        Header? header = null;
        byte[]? palette = null;
        using var idat = new MemoryStream();
        var pos = Signature.Length;
        while (pos + 8 <= bytes.Length)
        {
            var length = BinaryPrimitives.ReadInt32BigEndian(bytes.AsSpan(pos));
            var type = System.Text.Encoding.ASCII.GetString(bytes, pos + 4, 4);
            if (length < 0 || pos + 12 + length > bytes.Length) throw new InvalidDataException($"PNG chunk '{type}' is truncated");
            var data = bytes.AsSpan(pos + 8, length);
            switch (type)
            {
                case "IHDR": header = ReadHeader(data); break;
                case "PLTE": palette = data.ToArray(); break;
                case "IDAT": idat.Write(data); break;
                case "IEND": pos = bytes.Length; continue;
            }
            pos += 12 + length;
        }
        if (header == null) throw new InvalidDataException("PNG has no IHDR chunk");
        if (header.ColorType == 3 && palette == null) throw new InvalidDataException("palette PNG has no PLTE chunk");
        var raw = Inflate(idat.ToArray());
        return new RgbImage(header.Width, header.Height, ToRgb(header, Unfilter(header, raw), palette));
    }

    private static Header ReadHeader(ReadOnlySpan<byte> d)
    {
        if (d.Length < 13) throw new InvalidDataException("PNG IHDR is too short");
        var h = new Header(BinaryPrimitives.ReadInt32BigEndian(d), BinaryPrimitives.ReadInt32BigEndian(d[4..]), d[8], d[9], d[12] == 1);
        if (h.Width <= 0 || h.Height <= 0 || (long)h.Width * h.Height > 1L << 28) throw new InvalidDataException($"PNG size {h.Width}x{h.Height} is not supported");
        if (h.BitDepth is not (1 or 2 or 4 or 8 or 16)) throw new InvalidDataException($"PNG bit depth {h.BitDepth} is invalid");
        _ = h.Channels;
        return h;
    }

    private static byte[] Inflate(byte[] compressed)
    {
        try
        {
            using var z = new ZLibStream(new MemoryStream(compressed), CompressionMode.Decompress);
            using var output = new MemoryStream();
            z.CopyTo(output);
            return output.ToArray();
        }
        catch (InvalidDataException e)
        {
            throw new InvalidDataException($"PNG image data is corrupt ({e.Message})", e);
        }
    }

    /// <summary>Reverses the scanline filters, pass by pass for interlaced images; returns per-pixel samples in image order.</summary>
    private static byte[] Unfilter(Header h, byte[] raw)
    {
        var bpp = Math.Max(1, h.BitsPerPixel / 8);
        var bytesPerSample = h.BitDepth == 16 ? 2 : 1;
        var pixelBytes = h.Channels * bytesPerSample;
        var image = new byte[h.Width * h.Height * pixelBytes];
        var offset = 0;
        foreach (var (x0, y0, dx, dy) in Passes(h.Interlaced))
        {
            var pw = (h.Width - x0 + dx - 1) / dx;
            var ph = (h.Height - y0 + dy - 1) / dy;
            if (pw <= 0 || ph <= 0) continue;
            var stride = (pw * h.BitsPerPixel + 7) / 8;
            var previous = new byte[stride];
            var line = new byte[stride];
            for (var row = 0; row < ph; row++)
            {
                if (offset + 1 + stride > raw.Length) throw new InvalidDataException("PNG image data ends early");
                var filter = raw[offset];
                raw.AsSpan(offset + 1, stride).CopyTo(line);
                offset += 1 + stride;
                Reconstruct(filter, line, previous, bpp);
                for (var col = 0; col < pw; col++) CopyPixel(h, line, col, image, ((y0 + row * dy) * h.Width + x0 + col * dx) * pixelBytes);
                (previous, line) = (line, previous);
            }
        }
        return image;
    }

    private static IEnumerable<(int X0, int Y0, int Dx, int Dy)> Passes(bool interlaced) => interlaced
        ? [(0, 0, 8, 8), (4, 0, 8, 8), (0, 4, 4, 8), (2, 0, 4, 4), (0, 2, 2, 4), (1, 0, 2, 2), (0, 1, 1, 2)]
        : [(0, 0, 1, 1)];

    private static void Reconstruct(byte filter, Span<byte> line, ReadOnlySpan<byte> up, int bpp)
    {
        for (var i = 0; i < line.Length; i++)
        {
            int a = i >= bpp ? line[i - bpp] : 0, b = up[i], c = i >= bpp ? up[i - bpp] : 0;
            line[i] = filter switch
            {
                0 => line[i],
                1 => (byte)(line[i] + a),
                2 => (byte)(line[i] + b),
                3 => (byte)(line[i] + ((a + b) >> 1)),
                4 => (byte)(line[i] + Paeth(a, b, c)),
                _ => throw new InvalidDataException($"PNG scanline filter {filter} is invalid"),
            };
        }
    }

    private static int Paeth(int a, int b, int c)
    {
        int p = a + b - c, pa = Math.Abs(p - a), pb = Math.Abs(p - b), pc = Math.Abs(p - c);
        return pa <= pb && pa <= pc ? a : pb <= pc ? b : c;
    }

    /// <summary>Copies pixel <paramref name="col"/> of a reconstructed line, unpacking sub-byte samples to one byte each.</summary>
    private static void CopyPixel(Header h, byte[] line, int col, byte[] image, int at)
    {
        if (h.BitDepth >= 8)
        {
            var n = h.Channels * (h.BitDepth / 8);
            Array.Copy(line, col * n, image, at, n);
            return;
        }
        var bit = col * h.BitDepth;
        var value = (line[bit >> 3] >> (8 - h.BitDepth - (bit & 7))) & ((1 << h.BitDepth) - 1);
        image[at] = (byte)value;
    }

    private static byte[] ToRgb(Header h, byte[] samples, byte[]? palette)
    {
        var count = h.Width * h.Height;
        var rgb = new byte[count * 3];
        var step = h.BitDepth == 16 ? 2 : 1;
        var pixelBytes = h.Channels * step;
        for (var p = 0; p < count; p++)
        {
            var s = p * pixelBytes;
            switch (h.ColorType)
            {
                case 3:
                    var index = samples[s] * 3;
                    if (index + 2 >= palette!.Length) throw new InvalidDataException($"PNG palette index {samples[s]} is outside the palette");
                    rgb[p * 3] = palette[index];
                    rgb[p * 3 + 1] = palette[index + 1];
                    rgb[p * 3 + 2] = palette[index + 2];
                    break;
                case 0 or 4:
                    var gray = h.BitDepth < 8 ? (byte)(samples[s] * 255 / ((1 << h.BitDepth) - 1)) : samples[s];
                    rgb[p * 3] = rgb[p * 3 + 1] = rgb[p * 3 + 2] = gray;
                    break;
                default:
                    rgb[p * 3] = samples[s];
                    rgb[p * 3 + 1] = samples[s + step];
                    rgb[p * 3 + 2] = samples[s + 2 * step];
                    break;
            }
        }
        return rgb;
    }
}
