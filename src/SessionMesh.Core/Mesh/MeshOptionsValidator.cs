using Microsoft.Extensions.Options;

namespace SessionMesh.Mesh;

/// <summary>Refuses mesh settings that could not work, naming the setting.</summary>
internal sealed class MeshOptionsValidator : IValidateOptions<MeshOptions>
{
    public ValidateOptionsResult Validate(string? name, MeshOptions options)
    {
        var failures = new List<string>();
        if (options.DefaultSessionTtl is < MeshLimits.MinTtl or > MeshLimits.MaxTtl)
        {
            failures.Add($"Mesh:DefaultSessionTtl must be between {MeshLimits.MinTtl} and {MeshLimits.MaxTtl}.");
        }
        if (options.MaxDepth < 0)
        {
            failures.Add("Mesh:MaxDepth cannot be negative.");
        }
        if (options.BudgetWarnAt is not (> 0 and <= 1))
        {
            failures.Add("Mesh:BudgetWarnAt must be more than 0 and at most 1 (a share of the budget).");
        }
        if (options.BudgetOverask is not ("clip" or "refuse"))
        {
            failures.Add("Mesh:BudgetOverask must be 'clip' or 'refuse'.");
        }
        if (options.MaxChildren < 1)
        {
            failures.Add("Mesh:MaxChildren must be at least 1.");
        }
        if (options.DefaultKeyTtl < 1 || options.DefaultKeyTtl > options.MaxKeyTtl)
        {
            failures.Add("Mesh:DefaultKeyTtl must be between 1 and Mesh:MaxKeyTtl.");
        }
        if (options.RecentEvents is < 1 or > 1_000_000)
        {
            failures.Add("Mesh:RecentEvents must be between 1 and 1000000.");
        }
        if (options.RecentEventsBytes is < 1024 or > 16L * 1024 * 1024 * 1024)
        {
            failures.Add("Mesh:RecentEventsBytes must be between 1024 and 17179869184 (16 GiB).");
        }
        if (options.EventRetention < 0)
        {
            failures.Add("Mesh:EventRetention cannot be negative.");
        }
        if (options.EventRetentionAge <= TimeSpan.Zero || options.CommandRetentionAge <= TimeSpan.Zero)
        {
            failures.Add("Mesh:EventRetentionAge and Mesh:CommandRetentionAge must be positive.");
        }
        if (options.EventRetentionBytes < 1 || options.CommandRetentionBytes < 1)
        {
            failures.Add("Mesh:EventRetentionBytes and Mesh:CommandRetentionBytes must be at least 1.");
        }
        if (options.RetentionInterval <= TimeSpan.Zero)
        {
            failures.Add("Mesh:RetentionInterval must be positive.");
        }
        if (options.SweepInterval <= TimeSpan.Zero)
        {
            failures.Add("Mesh:SweepInterval must be positive.");
        }
        if (!(options.ExpiryBurstFraction > 0 && options.ExpiryBurstFraction <= 1))
        {
            failures.Add("Mesh:ExpiryBurstFraction must be above 0 and at most 1.");
        }
        if (options.LeaseCheckpointInterval <= TimeSpan.Zero)
        {
            failures.Add("Mesh:LeaseCheckpointInterval must be positive.");
        }
        if (options.MaxPayloadBytes is < 1 or > 1024 * 1024)
        {
            failures.Add("Mesh:MaxPayloadBytes must be between 1 and 1048576 (the request body limit).");
        }
        if (options.MaxPageBytes < 1024)
        {
            failures.Add("Mesh:MaxPageBytes must be at least 1024.");
        }
        if (options.MaxTopologyAgents < 1)
        {
            failures.Add("Mesh:MaxTopologyAgents must be at least 1.");
        }
        if (options.LogTailLines < 1 || options.LogTailBytes < 1024 || options.LogTailAgents < 1)
        {
            failures.Add("Mesh:LogTailLines and Mesh:LogTailAgents must be at least 1, Mesh:LogTailBytes at least 1024.");
        }
        return failures.Count == 0 ? ValidateOptionsResult.Success : ValidateOptionsResult.Fail(failures);
    }
}
