namespace OrleansBus.Silo.Hosting;

/// <summary>
/// The value <c>slot</c> for <c>Bus:SiloId</c>, for identical replicas that share one folder (Aspire's <c>WithReplicas</c>
/// starts N copies of one command line): the silo takes the first name <c>silo1</c>, <c>silo2</c>, … that no other live
/// process holds under <c>Bus:DataDir</c>, and keeps its data in <c>&lt;DataDir&gt;/&lt;name&gt;</c>. A restarted cluster's
/// silos take the same names back, so they find their own chunks again — a chunk's owner name must stay stable, which a
/// random replica name would not. The claim is an exclusive lock on <c>&lt;DataDir&gt;/&lt;name&gt;.slot</c>, held for the
/// life of the process (the kernel drops it when the process dies, so a killed silo never leaves a stale claim).
/// </summary>
public static class SiloSlot
{
    public const string Slot = "slot";
    public const int MaxSlots = 256;

    // Held until the process exits: the lock is the claim.
    private static FileStream? s_claim;

    /// <summary>With <c>Bus:SiloId=slot</c>, claims a slot and rewrites <c>Bus:SiloId</c> and <c>Bus:DataDir</c> to it.</summary>
    public static void ClaimIfAsked(IConfigurationManager configuration)
    {
        var bus = configuration.GetSection(BusOptions.Section);
        if (!string.Equals(bus[nameof(BusOptions.SiloId)], Slot, StringComparison.OrdinalIgnoreCase))
            return;
        var root = Path.GetFullPath(bus[nameof(BusOptions.DataDir)] ?? new BusOptions().DataDir);
        var (name, dataDir, claim) = Claim(root);
        s_claim = claim;
        bus[nameof(BusOptions.SiloId)] = name;
        bus[nameof(BusOptions.DataDir)] = dataDir;
    }

    /// <summary>The first free slot under <paramref name="root"/>: its silo name, data folder, and the open lock file that holds it.</summary>
    internal static (string Name, string DataDir, FileStream Claim) Claim(string root)
    {
        Directory.CreateDirectory(root);
        for (var i = 1; i <= MaxSlots; i++)
        {
            var name = $"silo{i}";
            try
            {
                // FileShare.None takes flock(LOCK_EX | LOCK_NB) on Unix: a second holder fails at once.
                var claim = new FileStream(Path.Combine(root, name + ".slot"), FileMode.OpenOrCreate, FileAccess.ReadWrite, FileShare.None);
                return (name, Path.Combine(root, name), claim);
            }
            catch (IOException)
            {
                // held by a live silo: try the next name
            }
        }
        throw new InvalidOperationException(
            $"Bus:SiloId=slot: all {MaxSlots} silo names under {root} are held by running silos; stop one or choose another Bus:DataDir.");
    }
}
