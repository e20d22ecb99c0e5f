using System.Text.Json;
using System.Text.Json.Serialization;

namespace SessionMesh.Contracts;

/// <summary>Applies the wire format of <see cref="MeshJsonContext"/> to options owned by a framework (ASP.NET Core, HttpClient).</summary>
public static class MeshJson
{
    public static void ApplyTo(JsonSerializerOptions options)
    {
        ArgumentNullException.ThrowIfNull(options);
        options.TypeInfoResolverChain.Insert(0, MeshJsonContext.Default);
        options.PropertyNamingPolicy = JsonNamingPolicy.SnakeCaseLower;
        options.UnmappedMemberHandling = JsonUnmappedMemberHandling.Disallow;
        options.DefaultIgnoreCondition = JsonIgnoreCondition.WhenWritingNull;
        options.Converters.Add(new UtcTimestampConverter());
        // The web defaults read "30" as 30; the API names a wrong type instead.
        options.NumberHandling = JsonNumberHandling.Strict;
    }
}
