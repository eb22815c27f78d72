using System.Diagnostics.CodeAnalysis;
using System.Globalization;

namespace StorageCloud.Common.Time;

/// <summary>
/// Swift's timestamp: seconds since the epoch with 10 µs precision, plus an internal offset that orders
/// writes sharing one client timestamp. The normal form is "1700000000.12345"; the internal form appends
/// "_" and the offset as 16 hex digits when the offset is not zero. Ordering matches the internal string.
/// </summary>
public readonly struct SwiftTimestamp : IComparable<SwiftTimestamp>, IEquatable<SwiftTimestamp>
{
    /// <summary>Ticks per second: Swift's precision is 0.00001 s.</summary>
    public const long TicksPerSecond = 100_000;

    /// <summary>The first tick count Swift refuses ("timestamp too large": 10^10 seconds).</summary>
    public const long MaxTicksExclusive = 10_000_000_000L * TicksPerSecond;

    /// <summary>Creates a timestamp from 10 µs ticks and an offset.</summary>
    public SwiftTimestamp(long ticks, ulong offset = 0)
    {
        if (ticks < 0) throw new ArgumentOutOfRangeException(nameof(ticks), "timestamp cannot be negative");
        if (ticks >= MaxTicksExclusive) throw new ArgumentOutOfRangeException(nameof(ticks), "timestamp too large");
        Ticks = ticks;
        Offset = offset;
    }

    /// <summary>Whole 10 µs units since the epoch.</summary>
    public long Ticks { get; }

    /// <summary>The internal offset (0 for every client-made timestamp).</summary>
    public ulong Offset { get; }

    /// <summary>The zero timestamp, older than any real one.</summary>
    public static SwiftTimestamp Zero => default;

    /// <summary>Seconds since the epoch.</summary>
    public double Seconds => Ticks / (double)TicksPerSecond;

    /// <summary>The current time.</summary>
    public static SwiftTimestamp Now(ulong offset = 0)
        => new((DateTime.UtcNow.Ticks - DateTime.UnixEpoch.Ticks) / (TimeSpan.TicksPerSecond / TicksPerSecond), offset);

    /// <summary>Seconds as a float, rounded to Swift's precision the way Swift formats it.</summary>
    public static SwiftTimestamp FromSeconds(double seconds, ulong offset = 0)
    {
        if (!TryFromSeconds(seconds, offset, out var result, out var error)) throw new FormatException(error);
        return result;
    }

    /// <summary>A copy with <paramref name="increment"/> added to the offset.</summary>
    public SwiftTimestamp WithOffset(ulong increment) => new(Ticks, checked(Offset + increment));

    /// <summary>A copy moved by <paramref name="deltaTicks"/> 10 µs units (Swift's "delta").</summary>
    public SwiftTimestamp AddTicks(long deltaTicks) => new(Ticks + deltaTicks, Offset);

    /// <summary>The normal form, fixed width: "1700000000.12345".</summary>
    public string Normal => string.Create(16, Ticks, static (span, ticks) =>
    {
        var whole = ticks / TicksPerSecond;
        var fraction = ticks % TicksPerSecond;
        whole.TryFormat(span[..10], out _, "D10", CultureInfo.InvariantCulture);
        span[10] = '.';
        fraction.TryFormat(span[11..], out _, "D5", CultureInfo.InvariantCulture);
    });

    /// <summary>The internal form: the normal form, plus "_" and 16 hex digits when the offset is set.</summary>
    public string Internal => Offset == 0 ? Normal : Normal + "_" + Offset.ToString("x16", CultureInfo.InvariantCulture);

    /// <summary>Swift's short form: like <see cref="Internal"/> but the offset without padding.</summary>
    public string Short => Offset == 0 ? Normal : Normal + "_" + Offset.ToString("x", CultureInfo.InvariantCulture);

    /// <summary>
    /// Swift's isoformat: "2023-11-14T22:13:20.123450", microseconds, no zone. Swift derives it from the normal
    /// form read back as a float, so the microseconds carry that float's rounding; this repeats those steps.
    /// </summary>
    public string IsoFormat
    {
        get
        {
            var t = double.Parse(Normal, CultureInfo.InvariantCulture);
            var whole = Math.Truncate(t);
            var micros = (long)Math.Round((t - whole) * 1e6, MidpointRounding.ToEven);
            var seconds = (long)whole;
            if (micros >= 1_000_000)
            {
                seconds++;
                micros -= 1_000_000;
            }
            var utc = DateTime.UnixEpoch.AddSeconds(seconds).AddTicks(micros * 10);
            return utc.ToString("yyyy-MM-dd'T'HH:mm:ss.ffffff", CultureInfo.InvariantCulture);
        }
    }

    /// <summary>Whole seconds rounded up, as Swift uses for Last-Modified.</summary>
    public long CeilingSeconds => (Ticks + TicksPerSecond - 1) / TicksPerSecond;

    /// <summary>Parses a normal or internal timestamp the way Swift's Timestamp() does.</summary>
    public static SwiftTimestamp Parse(string text)
        => TryParse(text, out var result, out var error) ? result : throw new FormatException(error);

    /// <summary>Parses a normal or internal timestamp; <paramref name="error"/> says what is wrong otherwise.</summary>
    public static bool TryParse(string? text, out SwiftTimestamp result, [NotNullWhen(false)] out string? error)
    {
        result = default;
        if (string.IsNullOrEmpty(text))
        {
            error = "empty timestamp";
            return false;
        }
        var underscore = text.IndexOf('_');
        var basePart = underscore < 0 ? text.AsSpan() : text.AsSpan(0, underscore);
        ulong offset = 0;
        if (underscore >= 0)
        {
            var offsetPart = text.AsSpan(underscore + 1);
            if (offsetPart.Contains('_'))
            {
                error = "invalid offset";
                return false;
            }
            if (offsetPart.StartsWith("0x", StringComparison.OrdinalIgnoreCase)) offsetPart = offsetPart[2..];
            if (offsetPart.Length > 0 && !ulong.TryParse(offsetPart, NumberStyles.AllowHexSpecifier, CultureInfo.InvariantCulture, out offset))
            {
                error = "invalid offset";
                return false;
            }
        }
        if (!double.TryParse(basePart, NumberStyles.Float, CultureInfo.InvariantCulture, out var seconds))
        {
            error = "invalid timestamp";
            return false;
        }
        return TryFromSeconds(seconds, offset, out result, out error);
    }

    private static bool TryFromSeconds(double seconds, ulong offset, out SwiftTimestamp result, [NotNullWhen(false)] out string? error)
    {
        result = default;
        if (!double.IsFinite(seconds))
        {
            error = "invalid timestamp";
            return false;
        }
        if (seconds < 0)
        {
            error = "timestamp cannot be negative";
            return false;
        }
        if (seconds >= 10_000_000_000d)
        {
            error = "timestamp too large";
            return false;
        }
        // Swift formats the float with "%.05f", which rounds the exact binary value; .NET's "F5" does the
        // same, so taking the digits of that string reproduces Swift's normal form exactly.
        Span<char> digits = stackalloc char[32];
        seconds.TryFormat(digits, out var written, "F5", CultureInfo.InvariantCulture);
        long ticks = 0;
        foreach (var c in digits[..written])
        {
            if (c is >= '0' and <= '9') ticks = ticks * 10 + (c - '0');
        }
        if (ticks >= MaxTicksExclusive)
        {
            error = "timestamp too large";
            return false;
        }
        result = new SwiftTimestamp(ticks, offset);
        error = null;
        return true;
    }

    /// <summary>
    /// Reads a request's X-Timestamp the way Swift's storage servers do; the error strings are Swift's
    /// 400 bodies ("Missing X-Timestamp header", "Invalid X-Timestamp header").
    /// </summary>
    public static bool TryParseHeader(string? headerValue, out SwiftTimestamp result, [NotNullWhen(false)] out string? error)
    {
        if (headerValue is null)
        {
            result = default;
            error = "Missing X-Timestamp header";
            return false;
        }
        if (!TryParse(headerValue, out result, out _))
        {
            error = "Invalid X-Timestamp header";
            return false;
        }
        error = null;
        return true;
    }

    /// <inheritdoc/>
    public int CompareTo(SwiftTimestamp other)
    {
        var byTicks = Ticks.CompareTo(other.Ticks);
        return byTicks != 0 ? byTicks : Offset.CompareTo(other.Offset);
    }

    /// <inheritdoc/>
    public bool Equals(SwiftTimestamp other) => Ticks == other.Ticks && Offset == other.Offset;

    /// <inheritdoc/>
    public override bool Equals(object? obj) => obj is SwiftTimestamp other && Equals(other);

    /// <inheritdoc/>
    public override int GetHashCode() => HashCode.Combine(Ticks, Offset);

    /// <summary>The internal form, which is what storage nodes exchange.</summary>
    public override string ToString() => Internal;

    public static bool operator ==(SwiftTimestamp a, SwiftTimestamp b) => a.Equals(b);
    public static bool operator !=(SwiftTimestamp a, SwiftTimestamp b) => !a.Equals(b);
    public static bool operator <(SwiftTimestamp a, SwiftTimestamp b) => a.CompareTo(b) < 0;
    public static bool operator >(SwiftTimestamp a, SwiftTimestamp b) => a.CompareTo(b) > 0;
    public static bool operator <=(SwiftTimestamp a, SwiftTimestamp b) => a.CompareTo(b) <= 0;
    public static bool operator >=(SwiftTimestamp a, SwiftTimestamp b) => a.CompareTo(b) >= 0;
}
