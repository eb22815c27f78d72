using System.Globalization;
using System.Net;
using System.Net.Sockets;

namespace StorageCloud.Network.Neutron;

/// <summary>A subnet's CIDR: its first address, prefix length and IP version, with addresses as 128-bit numbers.</summary>
public readonly record struct Cidr(UInt128 First, int Prefix, int Version)
{
    private int Bits => Version == 4 ? 32 : 128;

    /// <summary>The last address of the range.</summary>
    public UInt128 Last => First + (Prefix == 0 && Bits == 128 ? UInt128.MaxValue - First : (UInt128.One << (Bits - Prefix)) - 1);

    /// <summary>True when <paramref name="address"/> lies in the range.</summary>
    public bool Contains(UInt128 address) => address >= First && address <= Last;

    /// <summary>True when the two ranges share an address.</summary>
    public bool Overlaps(Cidr other) => Version == other.Version && First <= other.Last && other.First <= Last;

    public override string ToString() => $"{Ipam.Format(First, Version)}/{Prefix.ToString(CultureInfo.InvariantCulture)}";
}

/// <summary>Address arithmetic for IPAM: parsing CIDRs and addresses, and the defaults Neutron gives a subnet.</summary>
public static class Ipam
{
    /// <summary>Parses "10.0.0.0/24"; null when it is not a CIDR or has host bits set (the recommended form in <paramref name="recommended"/>).</summary>
    public static Cidr? ParseCidr(string text, out string? recommended)
    {
        recommended = null;
        var slash = text.IndexOf('/');
        if (slash < 0 || !TryParse(text[..slash], out var address)
            || !int.TryParse(text[(slash + 1)..], NumberStyles.None, CultureInfo.InvariantCulture, out var prefix)) return null;
        var version = address.AddressFamily == AddressFamily.InterNetworkV6 ? 6 : 4;
        var bits = version == 4 ? 32 : 128;
        if (prefix > bits) return null;
        var value = ToNumber(address);
        var hostMask = prefix == bits ? UInt128.Zero : (prefix == 0 && bits == 128 ? UInt128.MaxValue : (UInt128.One << (bits - prefix)) - 1);
        var first = value & ~hostMask;
        if (version == 4) first &= uint.MaxValue;
        if (first != value)
        {
            recommended = $"{Format(first, version)}/{prefix}";
            return null;
        }
        return new Cidr(first, prefix, version);
    }

    /// <summary>Parses an address of <paramref name="version"/>; null when it is not one.</summary>
    public static UInt128? ParseAddress(string? text, int version)
    {
        if (text is null || !TryParse(text, out var address)) return null;
        if ((address.AddressFamily == AddressFamily.InterNetworkV6 ? 6 : 4) != version) return null;
        return ToNumber(address);
    }

    /// <summary>Parses an address strictly: IPv4 only as four dotted decimals (IPAddress alone takes "256" and "1.2.3.").</summary>
    private static bool TryParse(string text, out IPAddress address)
    {
        address = IPAddress.None;
        if (!text.Contains(':') && !System.Text.RegularExpressions.Regex.IsMatch(text, @"^\d{1,3}(\.\d{1,3}){3}$")) return false;
        if (!IPAddress.TryParse(text, out var parsed)) return false;
        address = parsed;
        return true;
    }

    public static UInt128 ToNumber(IPAddress address)
    {
        var bytes = address.GetAddressBytes();
        UInt128 value = 0;
        foreach (var b in bytes) value = (value << 8) | b;
        return value;
    }

    /// <summary>An address in its canonical text form.</summary>
    public static string Format(UInt128 value, int version)
    {
        var bytes = new byte[version == 4 ? 4 : 16];
        for (var i = bytes.Length - 1; i >= 0; i--)
        {
            bytes[i] = (byte)(value & 0xff);
            value >>= 8;
        }
        return new IPAddress(bytes).ToString();
    }

    /// <summary>The default gateway: the first host address (none in a /31, /32, /127 or /128).</summary>
    public static UInt128? DefaultGateway(Cidr cidr) => cidr.Last - cidr.First >= 2 ? cidr.First + 1 : null;

    /// <summary>The addresses hosts may hold: all but the network and (IPv4) broadcast addresses.</summary>
    public static (UInt128 First, UInt128 Last) Usable(Cidr cidr)
    {
        if (cidr.Last - cidr.First < 2) return (cidr.First, cidr.Last);
        return (cidr.First + 1, cidr.Version == 4 ? cidr.Last - 1 : cidr.Last);
    }

    /// <summary>Neutron's default allocation pools: the usable range without the gateway (split around it).</summary>
    public static List<(UInt128 Start, UInt128 End)> DefaultPools(Cidr cidr, UInt128? gateway)
    {
        var (first, last) = Usable(cidr);
        var pools = new List<(UInt128, UInt128)>();
        if (gateway is not { } g || g < first || g > last) pools.Add((first, last));
        else
        {
            if (g > first) pools.Add((first, g - 1));
            if (g < last) pools.Add((g + 1, last));
        }
        return pools;
    }
}
