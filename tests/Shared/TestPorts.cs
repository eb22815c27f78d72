using System.Net;
using System.Net.Sockets;

namespace StorageCloud.Tests;

/// <summary>Ports for the servers tests start (child processes and in-process storage nodes).</summary>
public static class TestPorts
{
    private static readonly HashSet<int> HandedOut = [];

    /// <summary>Locks held on the ports this process handed out, so other test processes (assemblies run in parallel) skip them.</summary>
    private static readonly List<FileStream> Reservations = [];

    private static readonly string ReservationDirectory = Path.Combine(Path.GetTempPath(), "storagecloud-test-ports");

    /// <summary>
    /// Reserves a port across processes: an exclusive lock on a file named after it, held until this process ends
    /// (the kernel drops the lock then, so a crashed run leaves nothing reserved). False when another process holds it.
    /// </summary>
    private static bool Reserve(int port)
    {
        try
        {
            Directory.CreateDirectory(ReservationDirectory);
            Reservations.Add(new FileStream(Path.Combine(ReservationDirectory, $"{port}.lock"), FileMode.OpenOrCreate, FileAccess.ReadWrite, FileShare.None));
            return true;
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            return false;
        }
    }

    /// <summary>
    /// A free port to listen on, chosen below the kernel's ephemeral range: port-0 binds and client connections made
    /// meanwhile by other tests never land there, so the port is still free when a server binds it, even when the
    /// server is stopped and restarted on the same port. Test assemblies run in parallel processes, so a port is also
    /// reserved across processes before it is probed.
    /// </summary>
    public static int Free()
    {
        var ephemeralStart = 32768;
        try
        {
            ephemeralStart = int.Parse(File.ReadAllText("/proc/sys/net/ipv4/ip_local_port_range").Split('\t', ' ')[0]);
        }
        catch (Exception e) when (e is IOException or FormatException)
        {
        }
        var low = Math.Max(1024, ephemeralStart - 12000);
        lock (HandedOut)
        {
            for (var attempt = 0; attempt < 1000; attempt++)
            {
                var port = Random.Shared.Next(low, ephemeralStart);
                if (HandedOut.Contains(port) || !Reserve(port)) continue;
                try
                {
                    using var probe = new TcpListener(IPAddress.Loopback, port);
                    probe.Start();
                }
                catch (SocketException)
                {
                    continue;
                }
                HandedOut.Add(port);
                return port;
            }
        }
        throw new InvalidOperationException("no free port below the ephemeral range");
    }
}
