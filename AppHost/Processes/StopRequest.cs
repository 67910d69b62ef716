using System.Runtime.InteropServices;

namespace OrleansBus.AppHost.Processes;

/// <summary>
/// Ctrl+C (SIGINT) and SIGTERM become a cancellation instead of killing the launcher, so it can stop
/// its children in order. A second signal while stopping changes nothing: every stop step has its own timeout.
/// </summary>
internal sealed class StopRequest : IDisposable
{
    private readonly CancellationTokenSource _cts = new();
    private readonly PosixSignalRegistration[] _registrations;

    public StopRequest()
    {
        _registrations =
        [
            PosixSignalRegistration.Create(PosixSignal.SIGINT, OnSignal),
            PosixSignalRegistration.Create(PosixSignal.SIGTERM, OnSignal),
        ];
    }

    public CancellationToken Token => _cts.Token;

    public bool IsRequested => _cts.IsCancellationRequested;

    /// <summary>The signal that asked us to stop, for the goodbye line.</summary>
    public string? Signal { get; private set; }

    public void Dispose()
    {
        foreach (var registration in _registrations)
        {
            registration.Dispose();
        }
        _cts.Dispose();
    }

    private void OnSignal(PosixSignalContext context)
    {
        context.Cancel = true; // we exit ourselves, after the children
        Signal ??= context.Signal.ToString();
        _cts.Cancel();
    }
}
