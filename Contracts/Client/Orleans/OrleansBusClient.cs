using Orleans.Runtime;
using Orleans.Serialization.Buffers;
using OrleansBus.Contracts;
using OrleansBus.Contracts.Grains;

namespace OrleansBus.Client;

/// <summary>
/// The bus through an Orleans client: produce, poll, ack and nack as calls to the cluster's front-door grain
/// (<see cref="IBusEdgeGrain"/>), with the behaviour of <see cref="BusClient"/> — the same batching producer, the same
/// deliveries, the same typed exceptions. For .NET services that already run an Orleans client (or a silo) and want no
/// HTTP settings; bulk bytes move faster over REST (see docs/client.md). Thread safe; make one and share it.
/// </summary>
/// <remarks>
/// <para><b>Failover.</b> A call Orleans rejected before a silo ran it, or that a silo refused as <c>not_ready</c>, goes
/// once more through another key (another gateway silo). A call that timed out or lost its silo mid-way throws
/// <see cref="BusTimeoutException"/> or <see cref="BusUnavailableException"/>: a produce may then have been written
/// (at-least-once, as over REST).</para>
/// </remarks>
public sealed partial class OrleansBusClient : IBusClient, IBatchSender, IDeliverySettler, IAsyncDisposable
{
    private readonly IGrainFactory _grains;
    private readonly ProducerSet _producers = new();
    private int _nextKey = Random.Shared.Next();
    private int _disposing;

    /// <summary>Creates a client over <paramref name="grains"/> (an <c>IClusterClient</c>, or a silo's grain factory).</summary>
    public OrleansBusClient(IGrainFactory grains, OrleansBusClientOptions? options = null)
    {
        ArgumentNullException.ThrowIfNull(grains);
        options ??= new OrleansBusClientOptions();
        var errors = options.Validate();
        if (errors.Count > 0)
            throw new ArgumentException("Invalid OrleansBus client options: " + string.Join(" ", errors), nameof(options));
        _grains = grains;
        Options = options;
    }

    /// <summary>The settings this client was made with.</summary>
    public OrleansBusClientOptions Options { get; }

    /// <inheritdoc cref="BusClient.ProduceAsync(string, ReadOnlyMemory{byte}, Durability?, CancellationToken)"/>
    public async Task<ProduceResult> ProduceAsync(string category, ReadOnlyMemory<byte> batch, Durability? durability = null, CancellationToken cancellationToken = default)
    {
        BusClient.Segment(category, "category");
        var options = new EdgeProduceOptions((durability ?? Options.DefaultDurability) switch
        {
            Durability.Fsync => true,
            Durability.PageCache => false,
            _ => null,
        }, Options.MinSyncReplicas);
        for (var attempt = 0; ; attempt++)
        {
            // Ownership of the buffer passes to the call (the grain returns it to the pool); a retry sends a fresh one.
            var buffer = new PooledBuffer();
            buffer.Write(batch.Span);
            var reply = await CallAsync("a produce", door => door.ProduceAsync(category, buffer, options), attempt, cancellationToken);
            if (reply is null)
                continue; // rejected before any silo ran it: safe to send through another gateway
            if (reply.Fault is { } fault)
            {
                if (fault.Code == BusErrorCodes.NotReady && attempt == 0)
                    continue;
                throw ToException(fault);
            }
            return new ProduceResult(category, reply.Chunk, reply.Offset, reply.Length, reply.Messages, reply.Durability);
        }
    }

    /// <inheritdoc cref="BusClient.ProduceAsync(string, string, Durability?, CancellationToken)"/>
    public Task<ProduceResult> ProduceAsync(string category, string batch, Durability? durability = null, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(batch);
        return ProduceAsync(category, System.Text.Encoding.UTF8.GetBytes(batch), durability, cancellationToken);
    }

    /// <inheritdoc cref="BusClient.CreateProducer"/>
    public BusProducer CreateProducer(string category, BusProducerOptions? options = null)
    {
        ObjectDisposedException.ThrowIf(Volatile.Read(ref _disposing) != 0, this);
        return _producers.Create(this, category, options ?? Options.Producer, Options.DefaultDurability);
    }

    /// <inheritdoc cref="BusClient.PollAsync"/>
    public async Task<BusDelivery?> PollAsync(string category, string group, ConsumeOptions? options = null, CancellationToken cancellationToken = default)
    {
        BusClient.Segment(category, "category");
        BusClient.Segment(group, "group");
        options ??= Options.Consumer;
        var waitMs = (int)Math.Min(options.WaitTime.TotalMilliseconds, EdgePollRequest.MaxWaitMs);
        var request = new EdgePollRequest(category, group, options.EffectiveConsumerId, options.MaxBytes, options.MaxMessages, waitMs,
            options.LeaseTime is { } lease ? (int)Math.Min(lease.TotalMilliseconds, int.MaxValue) : null, options.Start == ConsumeStart.Latest);
        for (var attempt = 0; ; attempt++)
        {
            var key = NextKey();
            var reply = await CallAsync("a poll", door => door.PollAsync(request, cancellationToken), attempt, cancellationToken, key);
            if (reply is null)
                continue;
            if (reply.Fault is { } fault)
            {
                if (fault.Code == BusErrorCodes.NotReady && attempt == 0)
                    continue;
                throw ToException(fault);
            }
            if (reply.Delivery is not { } d)
                return null;
            return new BusDelivery(this, key, category, group, d.Token, d.Chunk, d.Offset, d.NextOffset,
                DateTimeOffset.FromUnixTimeMilliseconds(d.LeaseExpiresAtMs), d.DeliveryCount, d.Data);
        }
    }

    /// <inheritdoc cref="BusClient.ConsumeAsync"/>
    public IAsyncEnumerable<BusDelivery> ConsumeAsync(string category, string group, ConsumeOptions? options = null, CancellationToken cancellationToken = default) =>
        DeliveryLoop.RunAsync((o, token) => PollAsync(category, group, o, token), options ?? Options.Consumer, cancellationToken);

    /// <summary>Flushes and disposes every producer made by this client that is still open.</summary>
    public async ValueTask DisposeAsync()
    {
        if (Interlocked.Exchange(ref _disposing, 1) != 0)
            return;
        await _producers.DisposeAllAsync();
    }

    Task<ProduceResult> IBatchSender.ProduceAsync(string category, ReadOnlyMemory<byte> batch, Durability? durability, CancellationToken cancellationToken) =>
        ProduceAsync(category, batch, durability, cancellationToken);

    void IBatchSender.Forget(BusProducer producer) => _producers.Forget(producer);

    async Task IDeliverySettler.SettleAsync(BusDelivery delivery, int route, string verb, long? offset, TimeSpan delay, string? reason, CancellationToken cancellationToken)
    {
        // The door that served the poll (same key, same gateway silo): a partial ack needs the silo holding the chunk.
        var fault = await CallAsync(verb == "ack" ? "an ack" : "a nack", door => verb == "ack"
                ? door.AckAsync(delivery.Category, delivery.Group, delivery.Token, offset)
                : door.NackAsync(delivery.Category, delivery.Group, delivery.Token, (long)delay.TotalMilliseconds, reason),
            attempt: 1, cancellationToken, route);
        if (fault is not null)
            throw ToException(fault);
    }

    private int NextKey() => (int)((uint)Interlocked.Increment(ref _nextKey) % (uint)Options.DoorKeys);

    /// <summary>
    /// One call through the door. Null when Orleans rejected it before a silo ran it and <paramref name="attempt"/> is 0
    /// (the caller tries another key; settles pass 1, as a null fault means done); failures of the call itself become the client's typed exceptions.
    /// </summary>
    private async Task<T?> CallAsync<T>(string what, Func<IBusEdgeGrain, Task<T>> call, int attempt, CancellationToken cancellationToken, int? key = null)
        where T : class?
    {
        var door = _grains.GetGrain<IBusEdgeGrain>(key ?? NextKey());
        try
        {
            return await call(door).WaitAsync(cancellationToken);
        }
        catch (OrleansMessageRejectionException) when (attempt == 0)
        {
            return null;
        }
        catch (TimeoutException e)
        {
            throw new BusTimeoutException(what, TimeSpan.FromSeconds(30), e);
        }
        catch (Exception e) when (e is OrleansException or SiloUnavailableException)
        {
            throw new BusUnavailableException($"The cluster could not serve {what}: {e.Message}", e);
        }
    }

    private static BusException ToException(BusFault fault) =>
        BusException.Create(fault.Status, fault.Code, fault.Detail, fault.Value, fault.Limit, null);
}
