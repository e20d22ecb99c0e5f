using System.Globalization;
using Microsoft.AspNetCore.Builder;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;
using SessionMesh.Server.Hosting;

namespace SessionMesh.Server.Sandbox;

/// <summary>
/// A sandbox server's throwaway store: a fresh directory in the machine's temp directory holding the SQLite
/// database and the root key file, deleted when the server stops (owned by the app's services, so disposing
/// the app deletes it). A process that is killed outright leaves it behind in the temp directory.
/// </summary>
internal sealed class SandboxEnvironment : IDisposable
{
    /// <summary>Configuration key of the seed of every fault drawn; unset, faults differ from run to run.</summary>
    public const string SeedKey = "Sandbox:Seed";

    private SandboxEnvironment(string directory, FaultSettings faults)
    {
        Directory = directory;
        Faults = faults;
    }

    /// <summary>The throwaway data directory.</summary>
    public string Directory { get; }

    /// <summary>The faults asked for on the command line.</summary>
    public FaultSettings Faults { get; }

    /// <summary>
    /// For sandbox mode, checks the settings and creates the throwaway directory; null outside it.
    /// Throws <see cref="ArgumentException"/> with a one-line message for settings that cannot work.
    /// </summary>
    public static SandboxEnvironment? Create(ServeSettings settings)
    {
        if (!settings.Sandbox)
        {
            return settings.Faults is null
                ? null
                : throw new ArgumentException("--faults needs --sandbox: fault injection is never available outside sandbox mode.");
        }
        if (settings.Store is not null || settings.DataDir is not null)
        {
            throw new ArgumentException("--sandbox keeps its store in a throwaway temp directory; leave out --store and --data-dir.");
        }
        FaultSettings faults;
        try
        {
            faults = FaultSettings.Parse(settings.Faults);
        }
        catch (FaultSpecException bad)
        {
            throw new ArgumentException($"invalid --faults: {bad.Message}", bad);
        }
        return new SandboxEnvironment(TempDataDirectory.Create("sandbox"), faults);
    }

    /// <summary>Deletes the throwaway directory; safe to call more than once.</summary>
    public void Dispose() => TempDataDirectory.Delete(Directory);
}

/// <summary>Wires sandbox mode into the server: services, the fault middleware, and the endpoints.</summary>
internal static class SandboxRegistration
{
    public static void AddSandbox(this WebApplicationBuilder builder, SandboxEnvironment sandbox)
    {
        var seedText = builder.Configuration[SandboxEnvironment.SeedKey];
        int? seed = null;
        if (!string.IsNullOrWhiteSpace(seedText))
        {
            seed = int.TryParse(seedText, NumberStyles.Integer, CultureInfo.InvariantCulture, out var value)
                ? value
                : throw new ArgumentException($"{SandboxEnvironment.SeedKey} must be a whole number, not '{seedText}'.");
        }
        // A factory, so the container owns it and deletes the directory when the app is disposed.
        builder.Services.AddSingleton(_ => sandbox);
        builder.Services.AddSingleton(new FaultInjector(sandbox.Faults, seed));
        builder.Services.ConfigureHttpJsonOptions(o => o.SerializerOptions.TypeInfoResolverChain.Insert(0, SandboxJsonContext.Default));
    }

    /// <summary>True when the app was built in sandbox mode.</summary>
    public static bool IsSandbox(this IServiceProvider services) => services.GetService<FaultInjector>() is not null;

    /// <summary>The fault middleware: after authentication and authorization, before the endpoints.</summary>
    public static void UseSandboxFaults(this WebApplication app)
    {
        if (app.Services.IsSandbox())
        {
            app.UseMiddleware<FaultInjectionMiddleware>();
        }
    }
}
