namespace OrleansBus.AppHost.Components;

/// <summary>
/// Where the built silo and gateway are: <c>&lt;repo&gt;/{Silo,Gateway}/bin/&lt;configuration&gt;/net10.0/</c>,
/// in the configuration this launcher was built in (they are built with it: ProjectReferences), so a
/// Release launcher never starts a stale Debug silo.
/// </summary>
internal sealed class RepoLayout
{
    private RepoLayout(string root, string configuration)
    {
        Root = root;
        Configuration = configuration;
    }

    /// <summary>The folder holding <c>OrleansBus.sln</c>.</summary>
    public string Root { get; }

    /// <summary><c>Release</c> or <c>Debug</c>.</summary>
    public string Configuration { get; }

    public string SiloDll => Built("Silo", "OrleansBus.Silo.dll");

    public string GatewayDll => Built("Gateway", "OrleansBus.Gateway.dll");

    /// <summary>The <c>dotnet</c> host: the one running us if we run under it, else the SDK's, else PATH's.</summary>
    public static string DotnetHost
    {
        get
        {
            if (Path.GetFileNameWithoutExtension(Environment.ProcessPath) == "dotnet")
            {
                return Environment.ProcessPath!;
            }
            var fromSdk = Environment.GetEnvironmentVariable("DOTNET_HOST_PATH");
            return !string.IsNullOrEmpty(fromSdk) && File.Exists(fromSdk) ? fromSdk : "dotnet";
        }
    }

    /// <summary>Walks up from this build's folder, then from the current directory, to <c>OrleansBus.sln</c>.</summary>
    public static RepoLayout Find()
    {
        var configuration = AppContext.BaseDirectory.Replace('\\', '/').Contains("/Release/", StringComparison.Ordinal) ? "Release" : "Debug";
        foreach (var start in new[] { AppContext.BaseDirectory, Environment.CurrentDirectory })
        {
            for (var dir = new DirectoryInfo(start); dir is not null; dir = dir.Parent)
            {
                if (File.Exists(Path.Combine(dir.FullName, "OrleansBus.sln")))
                {
                    return new RepoLayout(dir.FullName, configuration);
                }
            }
        }
        throw new StartupException(
            $"No OrleansBus.sln above {AppContext.BaseDirectory} or {Environment.CurrentDirectory}: run the AppHost from a build inside the repository.");
    }

    private string Built(string project, string dll)
    {
        var path = Path.Combine(Root, project, "bin", Configuration, "net10.0", dll);
        return File.Exists(path)
            ? path
            : throw new StartupException($"{path} is missing. Build it first: dotnet build -c {Configuration} (or dotnet run --project AppHost).");
    }
}
