using System.Collections.Concurrent;
using OrleansBus.Contracts;

namespace OrleansBus.Client;

/// <summary>The producers a client made and has not seen disposed: both clients create them alike and flush them all when disposed.</summary>
internal sealed class ProducerSet
{
    private readonly ConcurrentDictionary<BusProducer, byte> _producers = new();

    /// <summary>A producer of <paramref name="category"/> sending through <paramref name="sender"/>; bad options throw <see cref="ArgumentException"/>.</summary>
    public BusProducer Create(IBatchSender sender, string category, BusProducerOptions options, Durability? clientDurability)
    {
        BusClient.Segment(category, "category");
        var settings = options.Clone();
        var errors = new List<string>();
        settings.Validate("", errors);
        if (errors.Count > 0)
            throw new ArgumentException("Invalid producer options: " + string.Join(" ", errors), nameof(options));
        var producer = new BusProducer(sender, category, settings, settings.Durability ?? clientDurability);
        _producers.TryAdd(producer, 0);
        return producer;
    }

    public void Forget(BusProducer producer) => _producers.TryRemove(producer, out _);

    /// <summary>Flushes and disposes every producer still open; throws their delivery failures together.</summary>
    public async ValueTask DisposeAllAsync()
    {
        List<Exception>? errors = null;
        foreach (var producer in _producers.Keys)
        {
            try
            {
                await producer.DisposeAsync(); // still sends: only then is the client closed
            }
            catch (BusException e)
            {
                (errors ??= []).Add(e);
            }
        }
        if (errors is not null)
            throw new AggregateException("Producers failed to deliver buffered messages while the client was disposed.", errors);
    }
}
