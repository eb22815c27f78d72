using System.Buffers;
using System.Text;

namespace StorageCloud.Common.Text;

/// <summary>
/// Percent-decoding of path segments as Swift does it, in one place: %XX sequences become bytes, other characters
/// their UTF-8 bytes, and the result must be valid UTF-8 (a name that is not is refused, never patched up).
/// </summary>
public static class PercentEncoding
{
    private static readonly UTF8Encoding StrictUtf8 = new(encoderShouldEmitUTF8Identifier: false, throwOnInvalidBytes: true);

    /// <summary>Decodes <paramref name="segment"/>; false when the bytes it names are not valid UTF-8.</summary>
    public static bool TryDecode(string segment, out string decoded)
    {
        if (!segment.Contains('%'))
        {
            decoded = segment;
            return true;
        }
        var buffer = ArrayPool<byte>.Shared.Rent(Encoding.UTF8.GetMaxByteCount(segment.Length));
        try
        {
            var length = 0;
            for (var i = 0; i < segment.Length; i++)
            {
                var c = segment[i];
                if (c == '%' && i + 2 < segment.Length && Uri.IsHexDigit(segment[i + 1]) && Uri.IsHexDigit(segment[i + 2]))
                {
                    buffer[length++] = (byte)((HexValue(segment[i + 1]) << 4) | HexValue(segment[i + 2]));
                    i += 2;
                }
                else if (c < 0x80) buffer[length++] = (byte)c;
                else
                {
                    // A character outside ASCII (a surrogate pair stays together) goes in as its UTF-8 bytes.
                    var count = char.IsHighSurrogate(c) && i + 1 < segment.Length ? 2 : 1;
                    length += Encoding.UTF8.GetBytes(segment.AsSpan(i, count), buffer.AsSpan(length));
                    i += count - 1;
                }
            }
            decoded = StrictUtf8.GetString(buffer, 0, length);
            return true;
        }
        catch (DecoderFallbackException)
        {
            decoded = "";
            return false;
        }
        finally
        {
            ArrayPool<byte>.Shared.Return(buffer);
        }
    }

    /// <summary>Percent-quotes a name for a URL, leaving '/' as it is (Python's quote(), as Swift uses it).</summary>
    public static string QuoteKeepSlash(string name) => Uri.EscapeDataString(name).Replace("%2F", "/", StringComparison.Ordinal);

    private static int HexValue(char c) => c <= '9' ? c - '0' : (c | 0x20) - 'a' + 10;
}
