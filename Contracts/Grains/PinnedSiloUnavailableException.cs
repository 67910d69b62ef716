namespace OrleansBus.Contracts.Grains;

/// <summary>
/// A grain pinned to one silo was called while that silo is not an active cluster member: it is never placed anywhere
/// else (its chunks live on that silo's disk). Crosses silos, so it has a codec; <see cref="Code"/> is the problem code
/// the HTTP edge answers with (503 <c>silo_unavailable</c>).
/// </summary>
[GenerateSerializer, Alias("orleansbus.PinnedSiloUnavailableException")]
public sealed class PinnedSiloUnavailableException : Exception
{
    /// <summary>For serializers.</summary>
    public PinnedSiloUnavailableException()
    {
    }

    /// <summary>With a message of the caller's.</summary>
    public PinnedSiloUnavailableException(string message)
        : base(message)
    {
    }

    /// <summary>With a message and the failure that caused it.</summary>
    public PinnedSiloUnavailableException(string message, Exception innerException)
        : base(message, innerException)
    {
    }

    /// <summary>The pinned silo <paramref name="silo"/> is not active, so <paramref name="grain"/> cannot be placed.</summary>
    public PinnedSiloUnavailableException(string silo, string grain)
        : base($"Grain {grain} is pinned to silo '{silo}', which is not an active member of the cluster; it is never placed elsewhere.") =>
        Silo = silo;

    /// <summary>The silo the grain is pinned to.</summary>
    [Id(0)]
    public string Silo { get; init; } = "";

    /// <summary>The stable problem code.</summary>
    public static string Code => BusErrorCodes.SiloUnavailable;
}
