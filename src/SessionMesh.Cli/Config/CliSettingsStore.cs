using System.Text.Json;

namespace SessionMesh.Cli.Config;

/// <summary>The CLI's own settings (the default list filter set by load-config), kept in a small JSON file.</summary>
internal sealed class CliSettingsStore(Func<string, string?> getEnvironmentVariable)
{
    public const string DirectoryVariable = "SESSION_MESH_CONFIG_DIR";

    /// <summary><c>$SESSION_MESH_CONFIG_DIR/cli.json</c>, else <c>$XDG_CONFIG_HOME/session-mesh/cli.json</c>, else <c>~/.config/session-mesh/cli.json</c>.</summary>
    public string FilePath
    {
        get
        {
            if (getEnvironmentVariable(DirectoryVariable) is { Length: > 0 } dir)
            {
                return Path.Combine(dir, "cli.json");
            }
            var configHome = getEnvironmentVariable("XDG_CONFIG_HOME") is { Length: > 0 } xdg
                ? xdg
                : Path.Combine(Environment.GetFolderPath(Environment.SpecialFolder.UserProfile), ".config");
            return Path.Combine(configHome, "session-mesh", "cli.json");
        }
    }

    public CliSettings Load()
    {
        try
        {
            using var stream = File.OpenRead(FilePath);
            return JsonSerializer.Deserialize(stream, CliJsonContext.Default.CliSettings) ?? new CliSettings();
        }
        catch (Exception ex) when (ex is FileNotFoundException or DirectoryNotFoundException)
        {
            return new CliSettings();
        }
        catch (JsonException ex)
        {
            throw new CliException(ExitCodes.Error, $"{FilePath} is not valid settings JSON ({ex.Message}); fix or delete it.");
        }
    }

    public void Save(CliSettings settings)
    {
        var path = FilePath;
        Directory.CreateDirectory(Path.GetDirectoryName(path)!);
        var temp = path + ".tmp";
        File.WriteAllBytes(temp, JsonSerializer.SerializeToUtf8Bytes(settings, CliJsonContext.Default.CliSettings));
        File.Move(temp, path, overwrite: true);
    }
}

/// <summary>What <see cref="CliSettingsStore"/> keeps.</summary>
internal sealed record CliSettings
{
    /// <summary>The filter `session-mesh list` uses when --filter is not given.</summary>
    public string? ListFilter { get; init; }
}
