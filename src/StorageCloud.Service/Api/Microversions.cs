using System.Globalization;
using Microsoft.AspNetCore.Http;

namespace StorageCloud.Service.Api;

/// <summary>An API microversion, "3.60".</summary>
public readonly record struct ApiVersion(int Major, int Minor) : IComparable<ApiVersion>
{
    /// <inheritdoc />
    public int CompareTo(ApiVersion other) => Major != other.Major ? Major.CompareTo(other.Major) : Minor.CompareTo(other.Minor);

    /// <summary>True when this version is at least <paramref name="other"/>.</summary>
    public bool AtLeast(ApiVersion other) => CompareTo(other) >= 0;

    /// <summary>Parses "MajorNum.MinorNum" as the reference services accept it (no leading zeros but a lone 0).</summary>
    public static bool TryParse(string text, out ApiVersion version)
    {
        version = default;
        var dot = text.IndexOf('.');
        if (dot <= 0 || dot == text.Length - 1) return false;
        var major = text.AsSpan(0, dot);
        var minor = text.AsSpan(dot + 1);
        if (major[0] == '0' || (minor.Length > 1 && minor[0] == '0')) return false;
        if (!int.TryParse(major, NumberStyles.None, CultureInfo.InvariantCulture, out var a) || !int.TryParse(minor, NumberStyles.None, CultureInfo.InvariantCulture, out var b)) return false;
        version = new ApiVersion(a, b);
        return true;
    }

    /// <inheritdoc />
    public override string ToString() => $"{Major.ToString(CultureInfo.InvariantCulture)}.{Minor.ToString(CultureInfo.InvariantCulture)}";
}

/// <summary>
/// Microversion negotiation as Nova and Cinder do it: the version comes from <c>OpenStack-API-Version: &lt;service&gt;
/// &lt;version&gt;</c> (or "latest"; Nova also reads the legacy <c>X-OpenStack-Nova-API-Version</c>), the minimum when
/// none is given; a malformed one is a 400 and one out of range a 406. The answer names the version it was served at.
/// </summary>
public sealed class Microversions(string service, ApiVersion minimum, ApiVersion maximum, string? legacyHeader = null)
{
    /// <summary>The standard request and response header.</summary>
    public const string Header = "OpenStack-API-Version";

    private const string ItemKey = "storagecloud.microversion";

    /// <summary>The service name the header carries ("volume", "compute").</summary>
    public string Service => service;

    /// <summary>The oldest version served.</summary>
    public ApiVersion Minimum => minimum;

    /// <summary>The newest version served.</summary>
    public ApiVersion Maximum => maximum;

    /// <summary>The version a request asked for, answered in the response's headers; throws 400 or 406.</summary>
    public ApiVersion Negotiate(HttpContext context)
    {
        var requested = Requested(context.Request);
        var version = minimum;
        if (requested is not null)
        {
            if (requested == "latest") version = maximum;
            else if (!ApiVersion.TryParse(requested, out version))
                throw ApiError.BadRequest($"API Version String {requested} is of invalid format. Must be of format MajorNum.MinorNum.");
        }
        SetHeaders(context.Response, version);
        if (version.CompareTo(minimum) < 0 || version.CompareTo(maximum) > 0)
            throw new ApiError(406, $"Version {version} is not supported by the API. Minimum is {minimum} and maximum is {maximum}.");
        context.Items[ItemKey] = version;
        return version;
    }

    /// <summary>The version negotiated for the request (the minimum if none was).</summary>
    public ApiVersion Of(HttpContext context) => context.Items[ItemKey] is ApiVersion v ? v : minimum;

    private string? Requested(HttpRequest request)
    {
        string? found = null;
        foreach (var value in request.Headers[Header])
        {
            foreach (var entry in (value ?? "").Split(',', StringSplitOptions.TrimEntries | StringSplitOptions.RemoveEmptyEntries))
            {
                var parts = entry.Split(' ', 2, StringSplitOptions.TrimEntries | StringSplitOptions.RemoveEmptyEntries);
                // The last entry naming this service wins, as microversion-parse reads it.
                if (parts.Length == 2 && parts[0].Equals(service, StringComparison.OrdinalIgnoreCase)) found = parts[1];
            }
        }
        if (found is null && legacyHeader is not null && request.Headers[legacyHeader].ToString() is { Length: > 0 } legacy) found = legacy.Trim();
        return found;
    }

    private void SetHeaders(HttpResponse response, ApiVersion version)
    {
        response.Headers[Header] = $"{service} {version}";
        response.Headers.Append("Vary", Header);
        if (legacyHeader is null) return;
        response.Headers[legacyHeader] = version.ToString();
        response.Headers.Append("Vary", legacyHeader);
    }
}
