using StorageCloud.Common.Hashing;

namespace StorageCloud.Ring;

/// <summary>The three rings of a cluster (account, container, object), each read fresh on every lookup.</summary>
public sealed class ClusterRings(Func<Ring> account, Func<Ring> container, Func<Ring> obj)
{
    /// <summary>Ring file names in a ring directory, as Swift names them.</summary>
    public const string AccountFile = "account.ring.gz", ContainerFile = "container.ring.gz", ObjectFile = "object.ring.gz";

    /// <summary>The account ring in service.</summary>
    public Ring Account => account();

    /// <summary>The container ring in service.</summary>
    public Ring Container => container();

    /// <summary>The object ring in service.</summary>
    public Ring Object => obj();

    /// <summary>True when the directory holds all three ring files.</summary>
    public static bool ExistIn(string directory) =>
        File.Exists(Path.Combine(directory, AccountFile)) && File.Exists(Path.Combine(directory, ContainerFile)) && File.Exists(Path.Combine(directory, ObjectFile));

    /// <summary>Rings loaded from a directory and reloaded when their files change.</summary>
    public static ClusterRings Load(string directory, PathHasher hasher, Action<string, Exception>? onError = null, TimeSpan? checkInterval = null)
    {
        var a = new ReloadingRing(Path.Combine(directory, AccountFile), hasher, checkInterval, onError);
        var c = new ReloadingRing(Path.Combine(directory, ContainerFile), hasher, checkInterval, onError);
        var o = new ReloadingRing(Path.Combine(directory, ObjectFile), hasher, checkInterval, onError);
        return new ClusterRings(() => a.Current, () => c.Current, () => o.Current);
    }
}
