using OrleansBus.Contracts;

namespace OrleansBus.Client;

/// <summary>
/// Settings of an <see cref="OrleansBusClient"/>. Bindable from configuration (section <c>OrleansBus</c> by convention,
/// like <see cref="BusClientOptions"/> without the endpoints: the Orleans client finds the silos itself).
/// </summary>
public sealed class OrleansBusClientOptions
{
    /// <summary>Durability of a produce that names none; null leaves it to the category's default.</summary>
    public Durability? DefaultDurability { get; set; }

    /// <summary>
    /// Replicas (other silos) that must hold each produced batch before it is acknowledged (<c>min_sync_replicas</c>);
    /// 0, the default, waits for none. A produce the cluster cannot meet fails with code <c>not_enough_replicas</c> and
    /// writes nothing.
    /// </summary>
    public int MinSyncReplicas { get; set; }

    /// <summary>
    /// How many keys of the stateless front-door grain the client spreads its calls over. Orleans routes each key through
    /// one of its gateway connections and the grain runs on that gateway's silo, so more keys spread the load over more
    /// silos. Default 16.
    /// </summary>
    public int DoorKeys { get; set; } = 16;

    /// <summary>Defaults of producers made by <see cref="OrleansBusClient.CreateProducer"/>. Batches of 1–4 MiB suit grain calls best.</summary>
    public BusProducerOptions Producer { get; set; } = new();

    /// <summary>
    /// Defaults of polls. One grain call waits at most 20 s (inside Orleans' 30 s response timeout); a longer
    /// <see cref="ConsumeOptions.WaitTime"/> is served by polling again.
    /// </summary>
    public ConsumeOptions Consumer { get; set; } = new();

    /// <summary>Every problem with these settings, each naming its key; empty when valid.</summary>
    public IReadOnlyList<string> Validate()
    {
        var errors = new List<string>();
        if (MinSyncReplicas < 0)
            errors.Add($"MinSyncReplicas: {MinSyncReplicas} is invalid: 0 or more.");
        if (DoorKeys is < 1 or > 1024)
            errors.Add($"DoorKeys: {DoorKeys} is invalid: 1 to 1024.");
        Producer.Validate("Producer:", errors);
        Consumer.Validate("Consumer:", errors);
        return errors;
    }
}
