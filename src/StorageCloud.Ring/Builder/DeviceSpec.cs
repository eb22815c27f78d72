using System.Globalization;

namespace StorageCloud.Ring.Builder;

/// <summary>
/// swift-ring-builder's device strings. Add values: r1z2-10.0.0.1:6200R10.1.0.1:6300/sdb1_meta. Search values:
/// any of d&lt;id&gt; r&lt;region&gt; z&lt;zone&gt; -ip :port Rrip :rport /device _meta, each part optional.
/// </summary>
public static class DeviceSpec
{
    /// <summary>Parses an add value into a device (its id is assigned when added).</summary>
    public static RingDevice ParseAdd(string value, double weight)
    {
        var rest = value;
        var region = 1;
        if (rest.StartsWith('r')) region = TakeNumber(ref rest, value);
        if (!rest.StartsWith('z')) throw Invalid(value, "it must start with r<region>z<zone>- or z<zone>-");
        var zone = TakeNumber(ref rest, value);
        if (!rest.StartsWith('-')) throw Invalid(value, "a '-' must follow the zone");
        rest = rest[1..];
        var (ip, port) = TakeAddress(ref rest, value, requirePort: true);
        string? replicationIp = null;
        int? replicationPort = null;
        if (rest.StartsWith('R'))
        {
            rest = rest[1..];
            var (rip, rport) = TakeAddress(ref rest, value, requirePort: true);
            replicationIp = rip;
            replicationPort = rport;
        }
        if (!rest.StartsWith('/')) throw Invalid(value, "the device name must follow '/'");
        var underscore = rest.IndexOf('_');
        var device = underscore < 0 ? rest[1..] : rest[1..underscore];
        var meta = underscore < 0 ? "" : rest[(underscore + 1)..];
        if (device.Length == 0) throw Invalid(value, "the device name is empty");
        return new RingDevice
        {
            Id = -1, Region = region, Zone = zone, Ip = ip!, Port = port!.Value,
            ReplicationIp = replicationIp == ip && replicationPort == port ? null : replicationIp,
            ReplicationPort = replicationIp == ip && replicationPort == port ? null : replicationPort,
            Device = device, Weight = weight, Meta = meta,
        };
    }

    /// <summary>Parses a search value into a predicate over devices.</summary>
    public static Func<RingDevice, bool> ParseSearch(string value)
    {
        if (string.IsNullOrEmpty(value)) throw Invalid(value, "a search value needs at least one part");
        var rest = value;
        int? id = null, region = null, zone = null, port = null, rport = null;
        string? ip = null, rip = null, device = null, meta = null;
        if (rest.StartsWith('d')) id = TakeNumber(ref rest, value);
        if (rest.StartsWith('r')) region = TakeNumber(ref rest, value);
        if (rest.StartsWith('z')) zone = TakeNumber(ref rest, value);
        if (rest.StartsWith('-')) rest = rest[1..];
        if (rest.Length > 0 && (char.IsAsciiDigit(rest[0]) || rest[0] == '['))
            (ip, port) = TakeAddress(ref rest, value, requirePort: false);
        else if (rest.StartsWith(':'))
            (_, port) = TakeAddress(ref rest, value, requirePort: false);
        if (rest.StartsWith('R'))
        {
            rest = rest[1..];
            (rip, rport) = TakeAddress(ref rest, value, requirePort: false);
        }
        if (rest.StartsWith('/'))
        {
            var end = rest.IndexOf('_');
            device = end < 0 ? rest[1..] : rest[1..end];
            rest = end < 0 ? "" : rest[end..];
        }
        if (rest.StartsWith('_'))
        {
            meta = rest[1..].Trim('"');
            rest = "";
        }
        if (rest.Length > 0) throw Invalid(value, $"cannot read '{rest}'");
        return d => (id is null || d.Id == id) && (region is null || d.Region == region) && (zone is null || d.Zone == zone)
            && (ip is null || d.Ip == ip) && (port is null || d.Port == port)
            && (rip is null || d.EffectiveReplicationIp == rip) && (rport is null || d.EffectiveReplicationPort == rport)
            && (device is null || d.Device == device) && (meta is null || d.Meta.Contains(meta, StringComparison.Ordinal));
    }

    /// <summary>Applies a set_info change value (ip:port R rip:rport /device _meta, each optional) to a device.</summary>
    public static RingDevice ApplyChange(RingDevice device, string change)
    {
        var rest = change;
        var result = device;
        if (rest.Length > 0 && (char.IsAsciiDigit(rest[0]) || rest[0] == '[' || rest[0] == ':'))
        {
            var (ip, port) = TakeAddress(ref rest, change, requirePort: false);
            result = result with { Ip = ip ?? result.Ip, Port = port ?? result.Port };
        }
        if (rest.StartsWith('R'))
        {
            rest = rest[1..];
            var (rip, rport) = TakeAddress(ref rest, change, requirePort: false);
            result = result with { ReplicationIp = rip ?? result.ReplicationIp, ReplicationPort = rport ?? result.ReplicationPort };
        }
        if (rest.StartsWith('/'))
        {
            var end = rest.IndexOf('_');
            result = result with { Device = end < 0 ? rest[1..] : rest[1..end] };
            rest = end < 0 ? "" : rest[end..];
        }
        if (rest.StartsWith('_'))
        {
            result = result with { Meta = rest[1..] };
            rest = "";
        }
        if (rest.Length > 0 || change.Length == 0) throw Invalid(change, "expected <ip>:<port>R<ip>:<port>/<device>_<meta> with at least one part");
        return result;
    }

    private static int TakeNumber(ref string rest, string whole)
    {
        var i = 1;
        while (i < rest.Length && char.IsAsciiDigit(rest[i])) i++;
        if (i == 1 || !int.TryParse(rest.AsSpan(1, i - 1), NumberStyles.None, CultureInfo.InvariantCulture, out var number))
            throw Invalid(whole, $"'{rest[0]}' must be followed by a number");
        rest = rest[i..];
        return number;
    }

    private static (string? Ip, int? Port) TakeAddress(ref string rest, string whole, bool requirePort)
    {
        string? ip = null;
        if (rest.StartsWith('['))
        {
            var close = rest.IndexOf(']');
            if (close < 0) throw Invalid(whole, "an IPv6 address needs a closing ']'");
            ip = rest[1..close];
            rest = rest[(close + 1)..];
        }
        else if (rest.Length > 0 && rest[0] != ':')
        {
            var end = 0;
            while (end < rest.Length && (char.IsAsciiLetterOrDigit(rest[end]) || rest[end] is '.' or '-')) end++;
            ip = rest[..end];
            rest = rest[end..];
        }
        if (ip is not null && !System.Net.IPAddress.TryParse(ip, out _) && Uri.CheckHostName(ip) == UriHostNameType.Unknown)
            throw Invalid(whole, $"'{ip}' is not an address");
        int? port = null;
        if (rest.StartsWith(':'))
        {
            var end = 1;
            while (end < rest.Length && char.IsAsciiDigit(rest[end])) end++;
            if (end == 1 || !int.TryParse(rest.AsSpan(1, end - 1), NumberStyles.None, CultureInfo.InvariantCulture, out var p) || p is < 1 or > 65535)
                throw Invalid(whole, "the port must be a number from 1 to 65535");
            port = p;
            rest = rest[end..];
        }
        else if (requirePort)
        {
            throw Invalid(whole, "an address needs :<port>");
        }
        return (ip, port);
    }

    private static RingBuilderException Invalid(string value, string why) => new($"invalid device value '{value}': {why}");
}
