using System.Diagnostics;

namespace MaskInversion.Process.Tests;

/// <summary>
/// A network namespace joined to this host by a veth pair (host end <see cref="HostAddress"/>, namespace end
/// <see cref="Address"/>, a /30 of 10.231.0.0/16): a silo started inside it is a separate host on a link the test
/// can cut. Needs root (CAP_NET_ADMIN) and iproute2; without them the test fails and says so, it does not skip.
/// </summary>
sealed class NetworkNamespace : IDisposable
{
    public string Name { get; }
    public string HostAddress { get; }
    public string Address { get; }
    readonly string hostLink;

    NetworkNamespace(string name, string hostLink, string hostAddress, string address)
    {
        Name = name;
        this.hostLink = hostLink;
        HostAddress = hostAddress;
        Address = address;
    }

    public static NetworkNamespace Create()
    {
        if (Tools.Find("ip") is null)
            throw new InvalidOperationException("`ip` (iproute2) is not installed: `.ci/run` installs it (apt-get install -y iproute2).");
        // Unique per run: other test runs may share this kernel.
        int id = Random.Shared.Next(1, 16_000);
        string name = $"mi-part-{id}", host = $"mih{id}", peer = $"mip{id}";
        string hostAddress = $"10.231.{id / 64}.{id % 64 * 4 + 1}", address = $"10.231.{id / 64}.{id % 64 * 4 + 2}";
        try
        {
            Ip($"netns add {name}");
        }
        catch (InvalidOperationException ex)
        {
            throw new InvalidOperationException(
                "Cannot create a network namespace (the partition test needs root / CAP_NET_ADMIN, as in CI's container): " + ex.Message, ex);
        }
        var ns = new NetworkNamespace(name, host, hostAddress, address);
        try
        {
            Ip($"link add {host} type veth peer name {peer} netns {name}");
            Ip($"addr add {hostAddress}/30 dev {host}");
            Ip($"link set {host} up");
            Ip($"-n {name} addr add {address}/30 dev {peer}");
            Ip($"-n {name} link set {peer} up");
            Ip($"-n {name} link set lo up");
        }
        catch
        {
            ns.Dispose();
            throw;
        }
        return ns;
    }

    /// <summary>Cuts the link both ways: the silo inside reaches neither Redis nor any other silo.</summary>
    public void Partition() => Ip($"link set {hostLink} down");

    public void Heal() => Ip($"link set {hostLink} up");

    static void Ip(string arguments)
    {
        var info = new ProcessStartInfo("ip") { RedirectStandardError = true, RedirectStandardOutput = true, UseShellExecute = false };
        foreach (var a in arguments.Split(' ')) info.ArgumentList.Add(a);
        using var p = System.Diagnostics.Process.Start(info)!;
        var error = p.StandardError.ReadToEnd();
        p.WaitForExit();
        if (p.ExitCode != 0) throw new InvalidOperationException($"ip {arguments}: exit {p.ExitCode}: {error.Trim()}");
    }

    public void Dispose()
    {
        // Deleting the namespace deletes its veth end, and with it the host end.
        try { Ip($"netns del {Name}"); } catch (InvalidOperationException) { }
    }
}
