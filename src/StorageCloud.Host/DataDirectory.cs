using System.Security.Cryptography;
using System.Text.Json;
using StorageCloud.Common.Configuration;

namespace StorageCloud.Host;

/// <summary>
/// A node's data directory: device directories d1..dN, each carrying the marker file that says the device
/// is mounted, and etc/cluster.json with the cluster's path-hash secrets, made once and reused on restart.
/// </summary>
public sealed class DataDirectory
{
    /// <summary>Name of the marker file that makes a directory a usable device (Swift's mount_check, by file).</summary>
    public const string DeviceMarker = Storage.Engine.DeviceEngine.MarkerFile;

    private DataDirectory(string root, IReadOnlyList<string> devices, ClusterSecrets secrets)
    {
        Root = root;
        Devices = devices;
        Secrets = secrets;
    }

    /// <summary>The data directory's absolute path.</summary>
    public string Root { get; }

    /// <summary>Absolute paths of the device directories, d1 first.</summary>
    public IReadOnlyList<string> Devices { get; }

    /// <summary>The cluster's path-hash secrets.</summary>
    public ClusterSecrets Secrets { get; }

    /// <summary>Creates what is missing and reads what exists; never overwrites existing data.</summary>
    public static DataDirectory Prepare(string root, int deviceCount, string? prefix, string? suffix)
    {
        try
        {
            Directory.CreateDirectory(root);
            var devices = new List<string>(deviceCount);
            for (var i = 1; i <= deviceCount; i++)
            {
                var device = Path.Combine(root, $"d{i}");
                Directory.CreateDirectory(device);
                var marker = Path.Combine(device, DeviceMarker);
                if (!File.Exists(marker)) File.WriteAllText(marker, $"d{i}\n");
                devices.Add(device);
            }
            var etc = Path.Combine(root, "etc");
            Directory.CreateDirectory(etc);
            var secrets = LoadOrCreateSecrets(Path.Combine(etc, "cluster.json"), prefix, suffix);
            return new DataDirectory(root, devices, secrets);
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            throw new ConfigurationException("Storage:DataDir", $"cannot prepare {root}: {e.Message}");
        }
    }

    private static ClusterSecrets LoadOrCreateSecrets(string path, string? prefix, string? suffix)
    {
        ClusterSecrets? stored = null;
        if (File.Exists(path))
        {
            try
            {
                stored = JsonSerializer.Deserialize<ClusterSecrets>(File.ReadAllText(path));
            }
            catch (JsonException e)
            {
                throw new ConfigurationException("Storage:DataDir", $"{path} is damaged: {e.Message}");
            }
        }
        // Configured secrets win; otherwise the stored ones; otherwise new random ones. Changing the secrets
        // of a cluster that holds data would misplace every object, so a mismatch is an error, not an override.
        if (stored is not null && ((prefix is not null && prefix != stored.HashPathPrefix) || (suffix is not null && suffix != stored.HashPathSuffix)))
            throw new ConfigurationException("Cluster:HashPathPrefix", $"differs from the secrets this data directory was made with ({path})");
        var secrets = stored ?? new ClusterSecrets(prefix ?? RandomHex(), suffix ?? RandomHex());
        if (stored is null)
        {
            var temp = path + ".tmp";
            File.WriteAllText(temp, JsonSerializer.Serialize(secrets));
            File.Move(temp, path, overwrite: true);
        }
        return secrets;
    }

    private static string RandomHex() => Convert.ToHexStringLower(RandomNumberGenerator.GetBytes(16));
}

/// <summary>The cluster's path-hash secrets (Swift's swift_hash_path_prefix and swift_hash_path_suffix).</summary>
public sealed record ClusterSecrets(string HashPathPrefix, string HashPathSuffix);
