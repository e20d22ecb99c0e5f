using System.Text.Json.Serialization;
using SessionMesh.Cli.Commands;
using SessionMesh.Cli.Config;
using SessionMesh.Contracts;

namespace SessionMesh.Cli;

/// <summary>JSON of the CLI's own documents (settings, load-config results), in the wire contract's style.</summary>
[JsonSourceGenerationOptions(
    PropertyNamingPolicy = JsonKnownNamingPolicy.SnakeCaseLower,
    DictionaryKeyPolicy = JsonKnownNamingPolicy.Unspecified,
    DefaultIgnoreCondition = JsonIgnoreCondition.WhenWritingNull,
    Converters = [typeof(UtcTimestampConverter)])]
[JsonSerializable(typeof(CliSettings))]
[JsonSerializable(typeof(LoadConfigResult))]
[JsonSerializable(typeof(Agent.DirectiveLine))]
[JsonSerializable(typeof(Agent.KillResult))]
internal sealed partial class CliJsonContext : JsonSerializerContext;
