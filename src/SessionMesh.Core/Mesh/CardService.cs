using System.Text.Json;
using SessionMesh.Contracts;
using SessionMesh.Model;
using SessionMesh.Security;
using SessionMesh.Store;

namespace SessionMesh.Mesh;

/// <summary>
/// A2A Agent Cards in the registry. A card's skills are its agent's specializations: writing a card registers one
/// specialization per skill (the skill id its name; description and tags the skill's, version the card's) in the same
/// transaction, and removes the ones a previous card's skills made that the new card no longer has. Specializations
/// registered any other way are left alone, unless a skill names one: then the card describes it from then on.
/// </summary>
public sealed class CardService(MeshRuntime mesh)
{
    /// <summary>How many agents' cards a registry lookup reads at a time while it fills a page's byte budget.</summary>
    private const int CardReadChunk = 16;

    /// <summary>
    /// Stores an agent's card (validated against A2A's required fields); an agent that never joined is declared, as a
    /// registration would. Created is true when the agent had no card.
    /// </summary>
    public async Task<(AgentCardEntry Entry, bool Created)> PutAsync(MeshCaller caller, string agentId, JsonElement? card, string? cluster, CancellationToken cancellationToken)
    {
        Validate.AgentId(agentId);
        var resolved = caller.ResolveCluster(cluster);
        MeshAudit.InCluster(resolved);
        caller.RequireActingFor(agentId, MeshScopes.Register);
        var checkedCard = AgentCardRules.Check(card);

        var now = mesh.Now();
        await using var tx = await mesh.Store.BeginWriteAsync(cancellationToken);
        if (await tx.GetAgentAsync(resolved, agentId, cancellationToken) is null)
        {
            await tx.UpsertAgentAsync(new AgentRecord(resolved, agentId, null, new Dictionary<string, string>(), now, now), cancellationToken);
        }
        var previous = await tx.GetCardAsync(resolved, agentId, cancellationToken);
        long revision = 0;
        foreach (var skill in checkedCard.Skills)
        {
            var record = new SpecializationRecord(resolved, agentId, skill.Id, skill.Description, skill.Tags, checkedCard.Version, now);
            revision = await RegistryService.UpsertAsync(tx, record, now, cancellationToken) ?? revision;
        }
        var kept = checkedCard.Skills.Select(s => s.Id).ToHashSet(StringComparer.Ordinal);
        var stale = previous is null ? [] : AgentCardRules.SkillIds(previous.Card).Where(id => !kept.Contains(id)).ToList();
        var (removed, lastRemoval) = await RemoveSpecializationsAsync(tx, resolved, agentId, stale, now, cancellationToken);
        revision = Math.Max(revision, lastRemoval);

        var changed = previous?.Card != checkedCard.Json;
        var stored = changed ? new AgentCardRecord(resolved, agentId, checkedCard.Json, now) : previous!;
        var entry = Entry(stored) with { Specializations = checkedCard.Skills.Select(s => s.Id).ToList(), Removed = removed };
        if (changed)
        {
            await tx.UpsertCardAsync(stored, cancellationToken);
            revision = await MeshRuntime.AppendEventAsync(tx, "agent.card_updated", resolved, now, agentId, null, entry with { Changed = null, Card = null }, MeshJsonContext.Default.AgentCardEntry, cancellationToken);
        }
        MeshAudit.Current?.Created = previous is null;
        await mesh.CommitAsync(tx, revision, cancellationToken);
        return (entry with { Changed = changed || removed.Count > 0 || revision > 0, Card = checkedCard.Element }, previous is null);
    }

    /// <summary>An agent's card as it was stored; 404 <c>card_not_found</c> when the agent has none.</summary>
    public async Task<JsonElement> GetAsync(MeshCaller caller, string agentId, string? cluster, CancellationToken cancellationToken)
    {
        caller.Require(MeshScopes.Read);
        var resolved = caller.ResolveCluster(cluster);
        var card = await mesh.Store.GetCardAsync(resolved, agentId, cancellationToken);
        if (card is null)
        {
            throw await mesh.Store.GetAgentAsync(resolved, agentId, cancellationToken) is null
                ? MeshException.AgentNotFound(agentId)
                : CardNotFound(agentId);
        }
        return Parse(card.Card);
    }

    /// <summary>Removes an agent's card and the specializations its skills made.</summary>
    public async Task<AgentCardEntry> DeleteAsync(MeshCaller caller, string agentId, string? cluster, CancellationToken cancellationToken)
    {
        var resolved = caller.ResolveCluster(cluster);
        MeshAudit.InCluster(resolved);
        caller.RequireActingFor(agentId, MeshScopes.Register);
        var now = mesh.Now();
        await using var tx = await mesh.Store.BeginWriteAsync(cancellationToken);
        var card = await tx.GetCardAsync(resolved, agentId, cancellationToken);
        if (card is null)
        {
            throw await tx.GetAgentAsync(resolved, agentId, cancellationToken) is null ? MeshException.AgentNotFound(agentId) : CardNotFound(agentId);
        }
        await tx.DeleteCardAsync(resolved, agentId, cancellationToken);
        var (removed, _) = await RemoveSpecializationsAsync(tx, resolved, agentId, AgentCardRules.SkillIds(card.Card), now, cancellationToken);
        var entry = Entry(card) with { UpdatedAt = now, Specializations = [], Removed = removed, Changed = true };
        var revision = await MeshRuntime.AppendEventAsync(tx, "agent.card_removed", resolved, now, agentId, null, entry with { Changed = null }, MeshJsonContext.Default.AgentCardEntry, cancellationToken);
        await mesh.CommitAsync(tx, revision, cancellationToken);
        return entry;
    }

    /// <summary>
    /// The cards of the agents with a specialization, in the registry's order (alive first, least loaded first); agents
    /// without a card are left out, so a page may hold fewer than <paramref name="limit"/> items and still have a next one.
    /// </summary>
    public async Task<Page<AgentCardEntry>> FindAsync(MeshCaller caller, string? specialization, bool aliveOnly, string? cluster, int? limit, string? cursor, CancellationToken cancellationToken)
    {
        caller.Require(MeshScopes.Read);
        var name = Validate.Specialization(specialization);
        var resolved = caller.ResolveCluster(cluster);
        var size = Validate.Limit(limit);
        var offset = (int)(Cursor.DecodeLong(cursor) ?? 0);
        // The registry's order is by lease fields: the renewals acknowledged so far must be in the store.
        await mesh.Leases.FlushAsync(cancellationToken);
        var now = mesh.Now();
        var rows = await mesh.Store.FindBySpecializationAsync(new RegistryQuery(resolved, name, aliveOnly, now, offset, size + 1), cancellationToken);
        var more = rows.Count > size;
        var matches = rows.Take(size).ToList();

        // Cards may be large: read them a few agents at a time, only until the page's byte budget is spent.
        var found = new List<(int Row, AgentCardEntry Entry)>();
        long bytes = 0;
        var read = 0;
        while (read < matches.Count && bytes <= mesh.Options.MaxPageBytes)
        {
            var chunk = matches.Skip(read).Take(CardReadChunk).ToList();
            var cards = (await mesh.Store.GetCardsAsync(resolved, chunk.Select(m => m.Specialization.AgentId).ToList(), cancellationToken))
                .ToDictionary(c => c.AgentId, StringComparer.Ordinal);
            for (var i = 0; i < chunk.Count; i++)
            {
                if (cards.TryGetValue(chunk[i].Specialization.AgentId, out var card))
                {
                    var session = mesh.Leases.OverlayOrNull(chunk[i].Session);
                    var status = session?.StatusAt(now);
                    found.Add((read + i, Entry(card) with { Alive = status?.IsAlive() ?? false, Status = status, Load = session?.Load }));
                    bytes += card.Card.Length;
                }
            }
            read += chunk.Count;
        }
        var next = read < matches.Count ? Cursor.Encode(offset + read) : more ? Cursor.Encode(offset + size) : null;
        return PageBudget.Cut(found.Select(f => f.Entry).ToList(), next, kept => Cursor.Encode(offset + found[kept - 1].Row + 1),
            MeshJsonContext.Default.AgentCardEntry, mesh.Options.MaxPageBytes);
    }

    /// <summary>Removes those of <paramref name="names"/> the agent has, each with its event; returns the names removed and the last revision.</summary>
    private static async Task<(List<string> Removed, long Revision)> RemoveSpecializationsAsync(
        IMeshWriteTransaction tx, string cluster, string agentId, IEnumerable<string> names, DateTimeOffset now, CancellationToken cancellationToken)
    {
        var removed = new List<string>();
        long revision = 0;
        foreach (var name in names)
        {
            var existing = await tx.GetSpecializationAsync(cluster, agentId, name, cancellationToken);
            if (existing is null)
            {
                continue;
            }
            await tx.DeleteSpecializationAsync(cluster, agentId, name, cancellationToken);
            revision = await MeshRuntime.AppendEventAsync(tx, "agent.unregistered", cluster, now, agentId, null, MeshViews.RegistryEntry(existing, null, now), MeshJsonContext.Default.RegistryEntry, cancellationToken);
            removed.Add(name);
        }
        return (removed, revision);
    }

    private static AgentCardEntry Entry(AgentCardRecord card) =>
        new() { AgentId = card.AgentId, Cluster = card.Cluster, UpdatedAt = card.UpdatedAt, Card = Parse(card.Card) };

    private static JsonElement Parse(string card)
    {
        using var document = JsonDocument.Parse(card, RawJsonElementConverter.StoredDocumentOptions);
        return document.RootElement.Clone();
    }

    private static MeshException CardNotFound(string agentId) =>
        MeshException.NotFound("card_not_found", $"Agent '{agentId}' has no A2A Agent Card; PUT one at /agents/{agentId}/card.");
}
