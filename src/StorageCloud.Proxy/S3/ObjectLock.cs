using System.Globalization;
using Microsoft.AspNetCore.Http;

namespace StorageCloud.Proxy.S3;

/// <summary>
/// S3 Object Lock state and its rules. A bucket's switch and default retention live in container sysmeta; each
/// version's retention and legal hold in its transient sysmeta, which only the proxy's own sub-requests can set (the
/// gatekeeper drops clients' copies) and which the versioning middleware keeps when it archives a version.
/// </summary>
public static class ObjectLock
{
    /// <summary>"Enabled", or "Enabled;MODE;Days|Years;N" with a default retention rule.</summary>
    public const string BucketSysmeta = "X-Container-Sysmeta-S3-Object-Lock";

    /// <summary>GOVERNANCE or COMPLIANCE.</summary>
    public const string ModeSysmeta = "X-Object-Transient-Sysmeta-S3-Lock-Mode";

    /// <summary>The retain-until date, as S3 shows it (2030-01-01T00:00:00.000Z).</summary>
    public const string UntilSysmeta = "X-Object-Transient-Sysmeta-S3-Lock-Until";

    /// <summary>ON or OFF.</summary>
    public const string LegalHoldSysmeta = "X-Object-Transient-Sysmeta-S3-Lock-Legal-Hold";

    /// <summary>A bucket's lock configuration: whether it is enabled, and its default retention, if any.</summary>
    public sealed record BucketConfig(bool Enabled, string? Mode, string? Unit, int Period)
    {
        /// <summary>The sysmeta value that stands for it.</summary>
        public string Encode() => Mode is null ? "Enabled" : $"Enabled;{Mode};{Unit};{Period.ToString(CultureInfo.InvariantCulture)}";

        /// <summary>The retain-until date the default rule gives an object written now.</summary>
        public DateTimeOffset DefaultUntil(DateTimeOffset now) => Unit == "Years" ? now.AddYears(Period) : now.AddDays(Period);
    }

    /// <summary>The configuration kept in a container HEAD's sysmeta (not enabled when absent or unreadable).</summary>
    public static BucketConfig ConfigOf(SwiftAnswer container) => ConfigOf(container.IsSuccess ? container.Header(BucketSysmeta) : null);

    /// <summary>The lock configuration a bucket's stored sysmeta value describes.</summary>
    public static BucketConfig ConfigOf(string? value)
    {
        if (value is null || !value.StartsWith("Enabled", StringComparison.Ordinal)) return new(false, null, null, 0);
        var parts = value.Split(';');
        if (parts is [_, var mode, var unit, var text] && int.TryParse(text, NumberStyles.None, CultureInfo.InvariantCulture, out var period))
            return new(true, mode, unit, period);
        return new(true, null, null, 0);
    }

    /// <summary>A version's retention and legal hold, from a HEAD of it.</summary>
    public sealed record VersionState(string? Mode, DateTimeOffset? Until, string? LegalHold)
    {
        /// <summary>True while a retention date is still ahead.</summary>
        public bool Retained(DateTimeOffset now) => Mode is not null && Until is { } until && until > now;
    }

    /// <summary>The lock state of a HEAD's answer (nothing for a failed one).</summary>
    public static VersionState StateOf(SwiftAnswer head)
    {
        if (!head.IsSuccess) return new(null, null, null);
        var until = head.Header(UntilSysmeta) is { } text && TryParseDate(text, out var at) ? at : (DateTimeOffset?)null;
        return new(head.Header(ModeSysmeta), until, head.Header(LegalHoldSysmeta));
    }

    /// <summary>Parses an ISO 8601 date as S3 clients send it (UTC when no offset is given).</summary>
    public static bool TryParseDate(string text, out DateTimeOffset at) =>
        DateTimeOffset.TryParse(text, CultureInfo.InvariantCulture, DateTimeStyles.AssumeUniversal | DateTimeStyles.AdjustToUniversal, out at);

    /// <summary>True when the request carries x-amz-bypass-governance-retention: true.</summary>
    public static bool Bypass(S3Request r) =>
        string.Equals(r.Context.Request.Headers["x-amz-bypass-governance-retention"].ToString().Trim(), "true", StringComparison.OrdinalIgnoreCase);

    /// <summary>
    /// True when the version a HEAD describes may not be deleted: a legal hold, COMPLIANCE retention until its date,
    /// or GOVERNANCE retention unless the caller asks to bypass it.
    /// </summary>
    public static bool Blocks(S3Request r, SwiftAnswer head)
    {
        var state = StateOf(head);
        if (string.Equals(state.LegalHold, "ON", StringComparison.Ordinal)) return true;
        if (!state.Retained(DateTimeOffset.UtcNow)) return false;
        return state.Mode != "GOVERNANCE" || !Bypass(r);
    }

    /// <summary>
    /// The transient sysmeta a new object gets: the x-amz-object-lock-* headers, or else the bucket's default
    /// retention. A bucket without object lock refuses the headers (InvalidRequest), as S3 does.
    /// </summary>
    public static async Task<List<KeyValuePair<string, string>>> PutHeadersAsync(S3Request r)
    {
        var request = r.Context.Request;
        var mode = Header(request, "x-amz-object-lock-mode");
        var untilText = Header(request, "x-amz-object-lock-retain-until-date");
        var hold = Header(request, "x-amz-object-lock-legal-hold");
        var requested = mode is not null || untilText is not null || hold is not null;
        // The bucket's setting comes from the cached container info where there is one: this runs on every S3 PUT.
        var (status, stored) = r.Cluster is { } cluster
            ? await cluster.GetContainerInfoAsync(r.Principal.Account, r.Bucket!, cancellationToken: r.Context.RequestAborted) is var info ? (info.Status, info.Header(BucketSysmeta)) : default
            : await r.SwiftAsync("HEAD", r.SwiftPath(r.Bucket!)) is var head ? (head.Status, head.Header(BucketSysmeta)) : default;
        if (status is < 200 or > 299)
        {
            // The write itself reports a missing bucket; lock headers on a bucket we cannot read are refused here.
            if (requested) throw S3Error.FromSwift(status, r.Bucket, null);
            return [];
        }
        var config = ConfigOf(stored);
        if (!config.Enabled)
        {
            if (requested) throw MissingConfiguration();
            return [];
        }
        var headers = new List<KeyValuePair<string, string>>();
        var now = DateTimeOffset.UtcNow;
        if (mode is not null || untilText is not null)
        {
            if (mode is null || untilText is null)
                throw S3Error.InvalidArgument("x-amz-object-lock-retain-until-date and x-amz-object-lock-mode must both be supplied");
            if (mode is not ("GOVERNANCE" or "COMPLIANCE")) throw S3Error.InvalidArgument("Unknown wormMode directive.", "x-amz-object-lock-mode", mode);
            if (!TryParseDate(untilText, out var until))
                throw S3Error.InvalidArgument("The retain until date is not a valid date.", "x-amz-object-lock-retain-until-date", untilText);
            if (until <= now) throw S3Error.InvalidArgument("The retain until date must be in the future!", "x-amz-object-lock-retain-until-date", untilText);
            headers.Add(new(ModeSysmeta, mode));
            headers.Add(new(UntilSysmeta, S3Xml.Time(until)));
        }
        else if (config.Mode is not null)
        {
            headers.Add(new(ModeSysmeta, config.Mode));
            headers.Add(new(UntilSysmeta, S3Xml.Time(config.DefaultUntil(now))));
        }
        if (hold is not null)
        {
            if (hold is not ("ON" or "OFF")) throw S3Error.InvalidArgument("Legal Hold must be either of 'ON' or 'OFF'", "x-amz-object-lock-legal-hold", hold);
            headers.Add(new(LegalHoldSysmeta, hold));
        }
        return headers;
    }

    /// <summary>Shows a version's lock state on a GET or HEAD answer, as S3's x-amz-object-lock-* headers.</summary>
    public static void AddResponseHeaders(SwiftAnswer answer, HttpResponse response)
    {
        var state = StateOf(answer);
        if (state.Mode is not null && state.Until is { } until)
        {
            response.Headers["x-amz-object-lock-mode"] = state.Mode;
            response.Headers["x-amz-object-lock-retain-until-date"] = S3Xml.Time(until);
        }
        if (state.LegalHold is not null) response.Headers["x-amz-object-lock-legal-hold"] = state.LegalHold;
    }

    /// <summary>Retention or legal hold asked of a bucket without object lock.</summary>
    public static S3Error MissingConfiguration() => new("InvalidRequest", 400, "Bucket is missing Object Lock Configuration");

    private static string? Header(HttpRequest request, string name) => request.Headers[name].ToString() is { Length: > 0 } v ? v.Trim() : null;
}
