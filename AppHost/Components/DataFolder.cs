namespace OrleansBus.AppHost.Components;

/// <summary>The cluster's state folder (<c>--data</c>): postgres/, azurite/, silo1/.., logs/.</summary>
internal static class DataFolder
{
    public static void Create(string path)
    {
        Directory.CreateDirectory(Path.Combine(path, "logs"));
        // The default ./.cluster sits inside the clone: keep git from ever listing it.
        var ignore = Path.Combine(path, ".gitignore");
        if (!File.Exists(ignore))
        {
            File.WriteAllText(ignore, "# OrleansBus local cluster state (AppHost --data); not source.\n*\n");
        }
    }
}
