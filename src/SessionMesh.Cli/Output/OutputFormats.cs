namespace SessionMesh.Cli.Output;

/// <summary>The shapes of <c>--output</c>: tables for people (<c>wide</c> adds columns), JSON and YAML for programs.</summary>
internal enum OutputFormat
{
    Table,
    Wide,
    Json,
    Yaml,
}

internal static class OutputFormats
{
    public static readonly string[] Names = ["table", "wide", "json", "yaml"];

    public static OutputFormat Parse(string name) => name switch
    {
        "wide" => OutputFormat.Wide,
        "json" => OutputFormat.Json,
        "yaml" => OutputFormat.Yaml,
        _ => OutputFormat.Table,
    };
}
