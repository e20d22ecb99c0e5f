namespace SessionMesh.Model;

/// <summary>What a key may do. <see cref="Admin"/> implies every other scope, in every cluster.</summary>
[Flags]
public enum MeshScopes
{
    /// <summary>Nothing.</summary>
    None = 0,
    /// <summary>List, get, topology, events.</summary>
    Read = 1,
    /// <summary>Join, heartbeat, own command stream and acks, own specializations.</summary>
    Agent = 2,
    /// <summary>Registry writes for any agent.</summary>
    Register = 4,
    /// <summary>Steer and message agents.</summary>
    Steer = 8,
    /// <summary>Kill agents.</summary>
    Kill = 16,
    /// <summary>Mint and revoke keys within the key's own scopes.</summary>
    Keys = 32,
    /// <summary>Everything, all clusters.</summary>
    Admin = 64,
    /// <summary>Create, list, test and delete the webhooks of the key's cluster.</summary>
    Webhooks = 128,
}

/// <summary>Conversions between <see cref="MeshScopes"/> and their wire names.</summary>
public static class MeshScopeNames
{
    private static readonly (MeshScopes Scope, string Name)[] s_names =
    [
        (MeshScopes.Read, "read"), (MeshScopes.Agent, "agent"), (MeshScopes.Register, "register"),
        (MeshScopes.Steer, "steer"), (MeshScopes.Kill, "kill"), (MeshScopes.Keys, "keys"), (MeshScopes.Admin, "admin"),
        (MeshScopes.Webhooks, "webhooks"),
    ];

    /// <summary>Every scope name, in documentation order.</summary>
    public static IReadOnlyList<string> All { get; } = s_names.Select(n => n.Name).ToArray();

    /// <summary>The names of the scopes set in <paramref name="scopes"/>.</summary>
    public static List<string> ToNames(MeshScopes scopes) =>
        s_names.Where(n => scopes.HasFlag(n.Scope)).Select(n => n.Name).ToList();

    /// <summary>Parses one scope name; null when unknown.</summary>
    public static MeshScopes? Parse(string name)
    {
        foreach (var (scope, scopeName) in s_names)
        {
            if (string.Equals(scopeName, name, StringComparison.OrdinalIgnoreCase))
            {
                return scope;
            }
        }
        return null;
    }

    /// <summary>True when a key with <paramref name="held"/> may act with <paramref name="needed"/>.</summary>
    public static bool Covers(this MeshScopes held, MeshScopes needed) =>
        held.HasFlag(MeshScopes.Admin) || (held & needed) == needed;
}
