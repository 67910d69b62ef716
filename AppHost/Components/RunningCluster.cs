using OrleansBus.AppHost.Processes;

namespace OrleansBus.AppHost.Components;

/// <summary>
/// What has been started so far, in start order. Shutdown walks it backwards (gateway, silos, Azurite,
/// PostgreSQL), so a half-started cluster is stopped exactly as far as it got.
/// </summary>
internal sealed class RunningCluster
{
    private readonly List<IClusterComponent> _started = [];

    public IReadOnlyList<IClusterComponent> Components => _started;

    public T Add<T>(T component) where T : IClusterComponent
    {
        _started.Add(component);
        return component;
    }

    /// <summary>
    /// Waits for a requested stop (null) or for a component the cluster cannot do without to exit on its own (that
    /// component). Components matching <paramref name="keepServingWithout"/> may exit: <paramref name="reportGone"/> is told
    /// and the wait goes on.
    /// </summary>
    public async Task<IClusterComponent?> WaitForStopOrExitAsync(
        Func<IClusterComponent, bool> keepServingWithout, Action<IClusterComponent> reportGone, CancellationToken stopRequested)
    {
        var stop = Task.Delay(Timeout.Infinite, stopRequested);
        var watched = _started.ToList();
        while (true)
        {
            var exits = watched.Select(component => component.Exited).ToList();
            var first = await Task.WhenAny([stop, .. exits]);
            if (first == stop)
                return null;
            var gone = watched[exits.IndexOf(first)];
            if (!keepServingWithout(gone))
                return gone;
            reportGone(gone);
            watched.Remove(gone);
        }
    }

    /// <summary>Stops every component, last started first, printing each outcome; never throws.</summary>
    public async Task StopAllAsync(TextWriter output)
    {
        for (var i = _started.Count - 1; i >= 0; i--)
        {
            var component = _started[i];
            try
            {
                var how = await component.StopAsync();
                output.WriteLine($"stopped {component.Name} (pid {component.Pid}): {how}");
            }
            catch (Exception ex) when (ex is StartupException or IOException or InvalidOperationException)
            {
                output.WriteLine($"could not stop {component.Name} (pid {component.Pid}): {ex.Message}");
            }
            (component as IDisposable)?.Dispose();
        }
        _started.Clear();
    }
}
