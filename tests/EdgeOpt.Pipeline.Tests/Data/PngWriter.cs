using System.Buffers.Binary;
using System.IO.Compression;
using System.Text;

namespace EdgeOpt.Pipeline.Tests.Data;

/// <summary>A test-only PNG encoder that uses every scanline filter (row i gets filter i mod 5) and optional Adam7.</summary>
internal static class PngWriter
{
    public static byte[] Encode(int width, int height, int colorType, int bitDepth, Func<int, int, byte[]> pixel, bool interlaced = false, byte[]? palette = null)
    {
        var channels = colorType switch { 0 => 1, 2 => 3, 3 => 1, 4 => 2, _ => 4 };
        var raw = new MemoryStream();
        (int, int, int, int)[] passes = interlaced
            ? [(0, 0, 8, 8), (4, 0, 8, 8), (0, 4, 4, 8), (2, 0, 4, 4), (0, 2, 2, 4), (1, 0, 2, 2), (0, 1, 1, 2)]
            : [(0, 0, 1, 1)];
        var row = 0;
        foreach (var (x0, y0, dx, dy) in passes)
        {
            var pw = (width - x0 + dx - 1) / dx;
            var ph = (height - y0 + dy - 1) / dy;
            if (pw <= 0 || ph <= 0) continue;
            var stride = (pw * channels * bitDepth + 7) / 8;
            var previous = new byte[stride];
            for (var r = 0; r < ph; r++, row++)
            {
                var line = new byte[stride];
                for (var c = 0; c < pw; c++) Pack(line, c, pixel(x0 + c * dx, y0 + r * dy), bitDepth, channels);
                var filter = (byte)(row % 5);
                raw.WriteByte(filter);
                raw.Write(Filter(filter, line, previous, Math.Max(1, channels * bitDepth / 8)));
                previous = line;
            }
        }
        var png = new MemoryStream();
        png.Write([0x89, (byte)'P', (byte)'N', (byte)'G', 0x0D, 0x0A, 0x1A, 0x0A]);
        var ihdr = new byte[13];
        BinaryPrimitives.WriteInt32BigEndian(ihdr, width);
        BinaryPrimitives.WriteInt32BigEndian(ihdr.AsSpan(4), height);
        ihdr[8] = (byte)bitDepth;
        ihdr[9] = (byte)colorType;
        ihdr[12] = (byte)(interlaced ? 1 : 0);
        Chunk(png, "IHDR", ihdr);
        if (palette != null) Chunk(png, "PLTE", palette);
        var z = new MemoryStream();
        using (var zs = new ZLibStream(z, CompressionLevel.Optimal, leaveOpen: true)) zs.Write(raw.ToArray());
        Chunk(png, "IDAT", z.ToArray());
        Chunk(png, "IEND", []);
        return png.ToArray();
    }

    private static void Pack(byte[] line, int col, byte[] samples, int bitDepth, int channels)
    {
        if (bitDepth >= 8)
        {
            samples.CopyTo(line, col * channels * (bitDepth / 8));
            return;
        }
        var bit = col * bitDepth;
        line[bit >> 3] |= (byte)(samples[0] << (8 - bitDepth - (bit & 7)));
    }

    private static byte[] Filter(byte filter, byte[] line, byte[] up, int bpp)
    {
        var result = new byte[line.Length];
        for (var i = 0; i < line.Length; i++)
        {
            int a = i >= bpp ? line[i - bpp] : 0, b = up[i], c = i >= bpp ? up[i - bpp] : 0;
            var predictor = filter switch
            {
                0 => 0,
                1 => a,
                2 => b,
                3 => (a + b) >> 1,
                _ => Paeth(a, b, c),
            };
            result[i] = (byte)(line[i] - predictor);
        }
        return result;
    }

    private static int Paeth(int a, int b, int c)
    {
        int p = a + b - c, pa = Math.Abs(p - a), pb = Math.Abs(p - b), pc = Math.Abs(p - c);
        return pa <= pb && pa <= pc ? a : pb <= pc ? b : c;
    }

    private static void Chunk(Stream s, string type, byte[] data)
    {
        var header = new byte[8];
        BinaryPrimitives.WriteInt32BigEndian(header, data.Length);
        Encoding.ASCII.GetBytes(type).CopyTo(header, 4);
        s.Write(header);
        s.Write(data);
        s.Write(new byte[4]);
    }
}
