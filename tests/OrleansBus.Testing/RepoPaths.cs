namespace OrleansBus.Testing;

/// <summary>Locations inside the repository, found from the running test assembly.</summary>
public static class RepoPaths
{
    private static readonly Lazy<string> LazyRoot = new(FindRoot);

    /// <summary>The folder holding <c>OrleansBus.sln</c>.</summary>
    public static string Root => LazyRoot.Value;

    /// <summary>
    /// <c>Release</c> or <c>Debug</c>: whichever the current test assembly was built in, so a test never
    /// starts a stale silo left over from the other configuration.
    /// </summary>
    public static string BuildConfiguration =>
        AppContext.BaseDirectory.Replace('\\', '/').Contains("/Release/", StringComparison.Ordinal) ? "Release" : "Debug";

    /// <summary>The built silo, <c>Silo/bin/&lt;configuration&gt;/net10.0/OrleansBus.Silo.dll</c>.</summary>
    public static string SiloDll(string? configuration = null)
    {
        configuration ??= BuildConfiguration;
        var path = Path.Combine(Root, "Silo", "bin", configuration, "net10.0", "OrleansBus.Silo.dll");
        if (!File.Exists(path))
        {
            throw new FileNotFoundException(
                $"The silo is not built: {path} is missing. Build it first: dotnet build OrleansBus.sln -c {configuration}", path);
        }
        return path;
    }

    /// <summary>The built gateway, <c>Gateway/bin/&lt;configuration&gt;/net10.0/OrleansBus.Gateway.dll</c>.</summary>
    public static string GatewayDll(string? configuration = null)
    {
        configuration ??= BuildConfiguration;
        var path = Path.Combine(Root, "Gateway", "bin", configuration, "net10.0", "OrleansBus.Gateway.dll");
        if (!File.Exists(path))
        {
            throw new FileNotFoundException(
                $"The gateway is not built: {path} is missing. Build it first: dotnet build OrleansBus.sln -c {configuration}", path);
        }
        return path;
    }

    /// <summary>The built Aspire AppHost, <c>AppHost/bin/&lt;configuration&gt;/net10.0/OrleansBus.AppHost.dll</c>.</summary>
    public static string AppHostDll(string? configuration = null)
    {
        configuration ??= BuildConfiguration;
        var path = Path.Combine(Root, "AppHost", "bin", configuration, "net10.0", "OrleansBus.AppHost.dll");
        if (!File.Exists(path))
        {
            throw new FileNotFoundException(
                $"The AppHost is not built: {path} is missing. Build it first: dotnet build OrleansBus.sln -c {configuration}", path);
        }
        return path;
    }

    /// <summary>A built sample program, <c>samples/&lt;name&gt;/bin/&lt;configuration&gt;/net10.0/&lt;name&gt;.dll</c>.</summary>
    public static string SampleDll(string name, string? configuration = null)
    {
        configuration ??= BuildConfiguration;
        var path = Path.Combine(Root, "samples", name, "bin", configuration, "net10.0", name + ".dll");
        if (!File.Exists(path))
        {
            throw new FileNotFoundException(
                $"The sample {name} is not built: {path} is missing. Build it first: dotnet build OrleansBus.sln -c {configuration}", path);
        }
        return path;
    }

    private static string FindRoot()
    {
        for (var dir = new DirectoryInfo(AppContext.BaseDirectory); dir is not null; dir = dir.Parent)
        {
            if (File.Exists(Path.Combine(dir.FullName, "OrleansBus.sln")))
            {
                return dir.FullName;
            }
        }
        throw new InvalidOperationException(
            $"No OrleansBus.sln above {AppContext.BaseDirectory}: the fixtures must run from a build inside the repository.");
    }
}
