using OrleansBus.Contracts;

namespace OrleansBus.Client;

/// <summary>
/// Settings of a <see cref="BusClient"/>. Bindable from configuration (section <c>OrleansBus</c> by convention):
/// <c>OrleansBus:Endpoints:0=http://10.0.0.1:8080</c>, <c>OrleansBus:Producer:LingerTime=00:00:00.010</c>,
/// <c>OrleansBus:Consumer:WaitTime=00:00:20</c>. <see cref="Validate"/> names the key of every bad value.
/// </summary>
public sealed class BusClientOptions
{
    /// <summary>The configuration section <see cref="BusClientServiceCollectionExtensions"/> documents: <c>OrleansBus</c>.</summary>
    public const string SectionName = "OrleansBus";

    /// <summary>
    /// Base URIs of the silos (or a gateway), tried in order. A request that cannot connect to one goes to the
    /// next, and the client keeps using the last one that answered. At least one is required.
    /// </summary>
    public IList<Uri> Endpoints { get; } = new List<Uri>();

    /// <summary>Durability of a produce that names none; null leaves it to the category's default on the server.</summary>
    public Durability? DefaultDurability { get; set; }

    /// <summary>
    /// Replicas (other silos) that must hold each produced batch before it is acknowledged (<c>min_sync_replicas</c>);
    /// 0, the default, waits for none. A produce the cluster cannot meet fails with code <c>not_enough_replicas</c> and
    /// writes nothing.
    /// </summary>
    public int MinSyncReplicas { get; set; }

    /// <summary>How long one request may take (a poll may take <see cref="ConsumeOptions.WaitTime"/> longer). Default 30 s.</summary>
    public TimeSpan RequestTimeout { get; set; } = TimeSpan.FromSeconds(30);

    /// <summary>How long to wait for a TCP connection before trying the next endpoint. Default 5 s.</summary>
    public TimeSpan ConnectTimeout { get; set; } = TimeSpan.FromSeconds(5);

    /// <summary>Defaults of producers made by <see cref="BusClient.CreateProducer"/>.</summary>
    public BusProducerOptions Producer { get; set; } = new();

    /// <summary>Defaults of <see cref="BusClient.ConsumeAsync"/> and <see cref="BusClient.PollAsync"/> when they get no options.</summary>
    public ConsumeOptions Consumer { get; set; } = new();

    /// <summary>Every problem with these settings, each naming its configuration key; empty when they are usable.</summary>
    public IReadOnlyList<string> Validate()
    {
        var errors = new List<string>();
        if (MinSyncReplicas < 0)
            errors.Add($"MinSyncReplicas: {MinSyncReplicas} is invalid: 0 or more.");
        if (Endpoints.Count == 0)
            errors.Add("Endpoints: at least one silo or gateway URI is required, e.g. OrleansBus:Endpoints:0=http://127.0.0.1:8080.");
        for (var i = 0; i < Endpoints.Count; i++)
        {
            var endpoint = Endpoints[i];
            if (endpoint is null || !endpoint.IsAbsoluteUri || (endpoint.Scheme != Uri.UriSchemeHttp && endpoint.Scheme != Uri.UriSchemeHttps))
                errors.Add($"Endpoints:{i}: '{endpoint}' is not an absolute http:// or https:// URI.");
        }
        if (RequestTimeout <= TimeSpan.Zero)
            errors.Add($"RequestTimeout: {RequestTimeout} must be positive.");
        if (ConnectTimeout <= TimeSpan.Zero)
            errors.Add($"ConnectTimeout: {ConnectTimeout} must be positive.");
        if (Producer is null)
            errors.Add("Producer: must not be null.");
        else
            Producer.Validate("Producer:", errors);
        if (Consumer is null)
            errors.Add("Consumer: must not be null.");
        else
            Consumer.Validate("Consumer:", errors);
        return errors;
    }

    /// <summary>Throws <see cref="ArgumentException"/> listing every problem <see cref="Validate"/> finds.</summary>
    public void ThrowIfInvalid()
    {
        var errors = Validate();
        if (errors.Count > 0)
            throw new ArgumentException("Invalid OrleansBus client options: " + string.Join(" ", errors));
    }
}

/// <summary>Client-side batching of a <see cref="BusProducer"/>.</summary>
public sealed class BusProducerOptions
{
    /// <summary>Largest batch (one produce request) in bytes, newlines included. Default 1 MiB.</summary>
    public int MaxBatchBytes { get; set; } = 1024 * 1024;

    /// <summary>How long the first message of a batch may wait for others before the batch is sent. Default 5 ms.</summary>
    public TimeSpan LingerTime { get; set; } = TimeSpan.FromMilliseconds(5);

    /// <summary>
    /// Bytes a producer may hold that the server has not acknowledged yet (buffered, queued and in flight);
    /// past this, <see cref="BusProducer.SendAsync(ReadOnlyMemory{byte}, CancellationToken)"/> waits. Default 8 MiB.
    /// </summary>
    public long MaxPendingBytes { get; set; } = 8L * 1024 * 1024;

    /// <summary>Durability of this producer's batches; null uses <see cref="BusClientOptions.DefaultDurability"/>.</summary>
    public Durability? Durability { get; set; }

    /// <summary>A copy, so a producer's settings cannot change under it.</summary>
    public BusProducerOptions Clone() => (BusProducerOptions)MemberwiseClone();

    internal void Validate(string prefix, List<string> errors)
    {
        if (MaxBatchBytes < 2)
            errors.Add($"{prefix}MaxBatchBytes: {MaxBatchBytes} must be at least 2.");
        if (LingerTime < TimeSpan.Zero)
            errors.Add($"{prefix}LingerTime: {LingerTime} must not be negative.");
        if (MaxPendingBytes < MaxBatchBytes)
            errors.Add($"{prefix}MaxPendingBytes: {MaxPendingBytes} must be at least MaxBatchBytes ({MaxBatchBytes}).");
    }
}

/// <summary>Where a consumer group that does not exist yet starts.</summary>
public enum ConsumeStart
{
    /// <summary>At the oldest data (the server's default).</summary>
    Earliest,

    /// <summary>At the end: only messages produced after the group is created.</summary>
    Latest,
}

/// <summary>How a consumer polls: sizes, long-poll wait, lease, identity, auto-acknowledgement.</summary>
public sealed class ConsumeOptions
{
    /// <summary>Largest delivery in bytes (one message larger than this still comes whole); null: the server's default (1 MiB).</summary>
    public int? MaxBytes { get; set; }

    /// <summary>Most messages in one delivery; null: the server's default (1000).</summary>
    public int? MaxMessages { get; set; }

    /// <summary>How long a poll waits on the server for data before it answers "nothing" (long poll). Default 20 s; at most 300 s.</summary>
    public TimeSpan WaitTime { get; set; } = TimeSpan.FromSeconds(20);

    /// <summary>How long a delivery stays leased to this consumer; null: the server's default (30 s).</summary>
    public TimeSpan? LeaseTime { get; set; }

    /// <summary>Name of this consumer, shown in the group's lag; null: <c>&lt;machine&gt;-&lt;pid&gt;</c>.</summary>
    public string? ConsumerId { get; set; }

    /// <summary>
    /// With <see cref="BusClient.ConsumeAsync"/>: acknowledge each delivery when the loop asks for the next one.
    /// A delivery the loop leaves (break, exception) without asking for the next is released for redelivery instead.
    /// </summary>
    public bool AutoAck { get; set; }

    /// <summary>Where a new group starts; ignored for a group that exists.</summary>
    public ConsumeStart Start { get; set; } = ConsumeStart.Earliest;

    /// <summary>A copy to change without touching the client's defaults.</summary>
    public ConsumeOptions Clone() => (ConsumeOptions)MemberwiseClone();

    internal string EffectiveConsumerId => ConsumerId ?? DefaultConsumerId;

    internal static readonly string DefaultConsumerId = $"{Environment.MachineName}-{Environment.ProcessId}".ToLowerInvariant();

    internal void Validate(string prefix, List<string> errors)
    {
        if (MaxBytes is < 1)
            errors.Add($"{prefix}MaxBytes: {MaxBytes} must be at least 1.");
        if (MaxMessages is < 1)
            errors.Add($"{prefix}MaxMessages: {MaxMessages} must be at least 1.");
        if (WaitTime < TimeSpan.Zero || WaitTime > TimeSpan.FromMinutes(5))
            errors.Add($"{prefix}WaitTime: {WaitTime} must be from 0 to 5 minutes.");
        if (LeaseTime is { } lease && (lease < TimeSpan.FromMilliseconds(100) || lease > TimeSpan.FromHours(1)))
            errors.Add($"{prefix}LeaseTime: {lease} must be from 100 ms to 1 hour.");
        if (ConsumerId is { Length: > 200 })
            errors.Add($"{prefix}ConsumerId: at most 200 characters.");
    }
}
