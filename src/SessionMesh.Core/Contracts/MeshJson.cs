using System.Text.Json;

namespace SessionMesh.Contracts;

/// <summary>
/// Applies the wire format of <see cref="MeshJsonContext"/> to options owned by a framework (ASP.NET Core, HttpClient):
/// every setting is copied from the context's own options, so the format is defined once, on the context.
/// </summary>
public static class MeshJson
{
    public static void ApplyTo(JsonSerializerOptions options)
    {
        ArgumentNullException.ThrowIfNull(options);
        var wire = MeshJsonContext.Default.Options;
        options.TypeInfoResolverChain.Insert(0, MeshJsonContext.Default);
        options.PropertyNamingPolicy = wire.PropertyNamingPolicy;
        options.DictionaryKeyPolicy = wire.DictionaryKeyPolicy;
        options.UnmappedMemberHandling = wire.UnmappedMemberHandling;
        options.DefaultIgnoreCondition = wire.DefaultIgnoreCondition;
        options.NumberHandling = wire.NumberHandling;
        options.AllowDuplicateProperties = wire.AllowDuplicateProperties;
        foreach (var converter in wire.Converters)
        {
            options.Converters.Add(converter);
        }
    }
}
