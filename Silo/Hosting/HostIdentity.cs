using System.Net;
using System.Net.NetworkInformation;
using System.Net.Sockets;
using System.Text.RegularExpressions;

namespace OrleansBus.Silo.Hosting;

/// <summary>
/// The value <c>auto</c> for <c>Bus:SiloId</c>, <c>Bus:AdvertiseUrl</c> and <c>Orleans:Endpoints:AdvertisedIPAddress</c>:
/// in containers whose replicas are not known in advance (Azure Container Apps, Kubernetes deployments), each replica
/// takes its host name as its silo id and advertises its own first non-loopback IPv4 address. A silo id taken from the
/// host name changes when the replica is replaced, which is right when its data volume is replaced with it.
/// </summary>
public static partial class HostIdentity
{
    public const string Auto = "auto";

    /// <summary>The configured silo id, or for <c>auto</c> the host name made into a valid one (lowercase, [a-z0-9-], ≤ 63).</summary>
    public static string SiloId(string configured)
    {
        if (!string.Equals(configured, Auto, StringComparison.OrdinalIgnoreCase))
            return configured;
        var name = NotAllowed().Replace(Dns.GetHostName().ToLowerInvariant(), "-").Trim('-');
        if (name.Length > 63)
            name = name[^63..].TrimStart('-');
        return name.Length == 0 ? "silo" : name;
    }

    /// <summary>This host's first up, non-loopback IPv4 address; loopback when it has none.</summary>
    public static IPAddress FirstAddress()
    {
        foreach (var adapter in NetworkInterface.GetAllNetworkInterfaces())
        {
            if (adapter.OperationalStatus != OperationalStatus.Up || adapter.NetworkInterfaceType == NetworkInterfaceType.Loopback)
                continue;
            foreach (var unicast in adapter.GetIPProperties().UnicastAddresses)
            {
                if (unicast.Address.AddressFamily == AddressFamily.InterNetwork && !IPAddress.IsLoopback(unicast.Address))
                    return unicast.Address;
            }
        }
        return IPAddress.Loopback;
    }

    [GeneratedRegex("[^a-z0-9-]+")]
    private static partial Regex NotAllowed();
}
