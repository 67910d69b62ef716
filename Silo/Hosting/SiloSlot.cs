using OrleansBus.Silo.Storage;

namespace OrleansBus.Silo.Hosting;

/// <summary>
/// The value <c>slot</c> for <c>Bus:SiloId</c>, for identical replicas that share one folder (Aspire's <c>WithReplicas</c>
/// starts N copies of one command line): the silo takes the first name <c>silo1</c>, <c>silo2</c>, … whose data folder
/// <c>&lt;DataDir&gt;/&lt;name&gt;</c> no other live silo holds, and keeps its data there. A restarted cluster's silos
/// take the same names back, so they find their own chunks again — a chunk's owner name must stay stable, which a random
/// replica name would not. The claim is the folder's own <see cref="DataDirectoryLock"/>, taken here and handed to the
/// <see cref="LogStore"/> (the kernel drops it when the process dies, so a killed silo never leaves a stale claim).
/// </summary>
public static class SiloSlot
{
    public const string Slot = "slot";
    public const int MaxSlots = 256;

    /// <summary>With <c>Bus:SiloId=slot</c>, claims a slot, rewrites <c>Bus:SiloId</c> and <c>Bus:DataDir</c> to it and registers its lock.</summary>
    public static void ClaimIfAsked(WebApplicationBuilder builder)
    {
        if (ClaimIfAsked(builder.Configuration) is { } claimed)
            builder.Services.AddSingleton(claimed);
    }

    /// <summary>The claimed folder's lock (null without <c>Bus:SiloId=slot</c>); the configuration then names the slot.</summary>
    internal static DataDirectoryLock? ClaimIfAsked(IConfigurationManager configuration)
    {
        var bus = configuration.GetSection(BusOptions.Section);
        if (!string.Equals(bus[nameof(BusOptions.SiloId)], Slot, StringComparison.OrdinalIgnoreCase))
            return null;
        var root = Path.GetFullPath(bus[nameof(BusOptions.DataDir)] ?? new BusOptions().DataDir);
        var (name, claimed) = Claim(root);
        bus[nameof(BusOptions.SiloId)] = name;
        bus[nameof(BusOptions.DataDir)] = claimed.DataDir;
        return claimed;
    }

    /// <summary>The first free slot under <paramref name="root"/>: its silo name, and the lock on its data folder.</summary>
    internal static (string Name, DataDirectoryLock Lock) Claim(string root)
    {
        for (var i = 1; i <= MaxSlots; i++)
        {
            var name = $"silo{i}";
            var dataDir = Path.Combine(root, name);
            Directory.CreateDirectory(dataDir);
            if (DataDirectoryLock.TryAcquire(dataDir) is { } claimed)
                return (name, claimed); // else held by a live silo: try the next name
        }
        throw new InvalidOperationException(
            $"Bus:SiloId=slot: all {MaxSlots} silo names under {root} are held by running silos; stop one or choose another Bus:DataDir.");
    }
}
