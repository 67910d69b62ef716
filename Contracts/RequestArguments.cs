using System.Globalization;

namespace OrleansBus.Contracts;

/// <summary>
/// The query arguments of produce and poll whose rules do not depend on a silo's settings, judged alike by the silos and
/// by the gateway (which refuses them before it forwards anything). <c>max_bytes</c> is the silo's to judge: its upper
/// bound is the silo's <c>MaxReadBytes</c>.
/// </summary>
public static class RequestArguments
{
    /// <summary>Longest <c>wait_ms</c> of a poll.</summary>
    public const int MaxWaitMs = 300_000;

    /// <summary>Shortest and longest <c>lease_ms</c> of a poll (and <c>delayMs</c> of a nack, at most).</summary>
    public const int MinLeaseMs = 100;

    /// <inheritdoc cref="MinLeaseMs"/>
    public const int MaxLeaseMs = 3_600_000;

    /// <summary>Longest <c>consumer</c> name of a poll.</summary>
    public const int MaxConsumerLength = 200;

    /// <summary>
    /// An optional integer argument: null when absent (<paramref name="value"/> = <paramref name="fallback"/>) or within
    /// [<paramref name="min"/>, <paramref name="max"/>]; else the refusal.
    /// </summary>
    public static BusProblem? WholeNumber(string name, string text, int fallback, int min, int max, out int value)
    {
        value = fallback;
        if (text.Length == 0)
            return null;
        if (int.TryParse(text, NumberStyles.None, CultureInfo.InvariantCulture, out value) && value >= min && value <= max)
            return null;
        return RequestBodies.InvalidArgument(name, text, $"an integer from {min} to {max}");
    }

    /// <summary>The produce arguments <c>durability</c> and <c>min_sync_replicas</c>; <paramref name="query"/> gives "" when absent.</summary>
    public static BusProblem? CheckProduce(Func<string, string> query)
    {
        var durability = query("durability");
        if (durability.Length > 0 && !DurabilityNames.TryParse(durability, out _))
            return RequestBodies.InvalidArgument("durability", durability, "one of page-cache, fsync");
        var replicas = query("min_sync_replicas");
        if (replicas.Length > 0 && !int.TryParse(replicas, NumberStyles.None, CultureInfo.InvariantCulture, out _))
            return RequestBodies.InvalidArgument("min_sync_replicas", replicas, "a non-negative integer");
        return null;
    }

    /// <summary>The poll arguments other than <c>max_bytes</c>.</summary>
    public static BusProblem? CheckPoll(Func<string, string> query) =>
        WholeNumber("max_messages", query("max_messages"), 0, 1, int.MaxValue, out _)
        ?? WholeNumber("wait_ms", query("wait_ms"), 0, 0, MaxWaitMs, out _)
        ?? WholeNumber("lease_ms", query("lease_ms"), 0, MinLeaseMs, MaxLeaseMs, out _)
        ?? CheckStartAndConsumer(query("start"), query("consumer"));

    /// <summary><c>start</c> is earliest or latest; <c>consumer</c> at most <see cref="MaxConsumerLength"/> characters.</summary>
    public static BusProblem? CheckStartAndConsumer(string start, string consumer)
    {
        if (start.Length > 0 && start is not ("earliest" or "latest"))
            return RequestBodies.InvalidArgument("start", start, "earliest or latest");
        if (consumer.Length > MaxConsumerLength)
            return RequestBodies.InvalidArgument("consumer", consumer, $"at most {MaxConsumerLength} characters");
        return null;
    }
}
