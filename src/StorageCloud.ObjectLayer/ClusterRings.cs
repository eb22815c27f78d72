using StorageCloud.Common.Hashing;

namespace StorageCloud.ObjectLayer;

/// <summary>The three rings of a cluster (account, container, object), each read fresh on every lookup.</summary>
public sealed class ClusterRings(Func<Ring.Ring> account, Func<Ring.Ring> container, Func<Ring.Ring> obj)
{
    /// <summary>Ring file names in a ring directory, as Swift names them.</summary>
    public const string AccountFile = "account.ring.gz", ContainerFile = "container.ring.gz", ObjectFile = "object.ring.gz";

    /// <summary>The account ring in service.</summary>
    public Ring.Ring Account => account();

    /// <summary>The container ring in service.</summary>
    public Ring.Ring Container => container();

    /// <summary>The object ring in service.</summary>
    public Ring.Ring Object => obj();

    /// <summary>Rings loaded from a directory and reloaded when their files change.</summary>
    public static ClusterRings Load(string directory, PathHasher hasher, Action<string, Exception>? onError = null, TimeSpan? checkInterval = null)
    {
        var a = new Ring.ReloadingRing(Path.Combine(directory, AccountFile), hasher, checkInterval, onError);
        var c = new Ring.ReloadingRing(Path.Combine(directory, ContainerFile), hasher, checkInterval, onError);
        var o = new Ring.ReloadingRing(Path.Combine(directory, ObjectFile), hasher, checkInterval, onError);
        return new ClusterRings(() => a.Current, () => c.Current, () => o.Current);
    }
}
