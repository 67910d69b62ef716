using System.Net;
using System.Net.Sockets;

namespace OrleansBus.Testing;

/// <summary>Asks the kernel for an unused loopback TCP port.</summary>
/// <remarks>
/// The port is released before the caller binds it, so another process could take it in between;
/// on a test machine that window is small enough, and every fixture reports a failed bind loudly.
/// </remarks>
public static class FreePort
{
    public static int Get()
    {
        using var listener = new TcpListener(IPAddress.Loopback, 0);
        listener.Start();
        return ((IPEndPoint)listener.LocalEndpoint).Port;
    }
}
