using System.Globalization;
using System.Text;

namespace EdgeOpt.Pipeline.Data.Images;

/// <summary>Netpbm PPM (P3 text, P6 binary) and PGM (P2, P5) images, maxval up to 65535, scaled to 8-bit RGB.</summary>
public static class PnmDecoder
{
    public static RgbImage Decode(byte[] bytes)
    {
        var pos = 2;
        var magic = (char)bytes[1];
        var width = ReadNumber(bytes, ref pos);
        var height = ReadNumber(bytes, ref pos);
        var maxval = ReadNumber(bytes, ref pos);
        if (width <= 0 || height <= 0 || (long)width * height > 1L << 28) throw new InvalidDataException($"PNM size {width}x{height} is not supported");
        if (maxval is <= 0 or > 65535) throw new InvalidDataException($"PNM maxval {maxval} is invalid");
        var channels = magic is '3' or '6' ? 3 : 1;
        var count = width * height * channels;
        var samples = new int[count];
        if (magic is '2' or '3')
        {
            for (var i = 0; i < count; i++) samples[i] = ReadNumber(bytes, ref pos);
        }
        else
        {
            pos++;
            var wide = maxval > 255;
            if (pos + count * (wide ? 2 : 1) > bytes.Length) throw new InvalidDataException("PNM pixel data ends early");
            for (var i = 0; i < count; i++) samples[i] = wide ? bytes[pos + 2 * i] << 8 | bytes[pos + 2 * i + 1] : bytes[pos + i];
        }
        var rgb = new byte[width * height * 3];
        for (var p = 0; p < width * height; p++)
        {
            for (var c = 0; c < 3; c++) rgb[p * 3 + c] = (byte)(samples[p * channels + (channels == 3 ? c : 0)] * 255 / maxval);
        }
        return new RgbImage(width, height, rgb);
    }

    /// <summary>The next decimal number, skipping whitespace and # comments.</summary>
    private static int ReadNumber(byte[] bytes, ref int pos)
    {
        while (pos < bytes.Length && (char.IsWhiteSpace((char)bytes[pos]) || bytes[pos] == '#'))
        {
            if (bytes[pos] == '#') while (pos < bytes.Length && bytes[pos] != '\n') pos++;
            else pos++;
        }
        var start = pos;
        while (pos < bytes.Length && bytes[pos] is >= (byte)'0' and <= (byte)'9') pos++;
        if (start == pos) throw new InvalidDataException("PNM header or data is malformed (expected a number)");
        return int.Parse(Encoding.ASCII.GetString(bytes, start, pos - start), CultureInfo.InvariantCulture);
    }
}
