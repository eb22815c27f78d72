namespace StorageCloud.Common.Http;

/// <summary>
/// A request body, run in memory, whose sender can hash it for the server: a server that asks before its first read
/// gets the MD5 of exactly the bytes it then read, once the body has ended. Over a socket there is no such thing,
/// so a server given none hashes for itself. It saves hashing one body once per replica when the proxy and the
/// object servers share a process (the bytes are the same memory; the engine's CRC32C guards them on disk).
/// </summary>
public interface ISenderDigest
{
    /// <summary>Asks the sender to hash the body; call before the first read of it.</summary>
    void RequestDigest();

    /// <summary>The hex MD5 of the whole body, set by the sender before the body ends; null if it was never asked.</summary>
    string? Md5 { get; }
}
