using System.Text.Json;

namespace Foobar.Db.Orchestration;

/// <summary>
/// What the orchestrator has decided, kept on disk so a restarted control plane does not undo a
/// failover: which server is the primary, since when, and where it stood when promoted.
/// </summary>
public sealed record ClusterState
{
    /// <summary>The primary's name.</summary>
    public required string Primary { get; init; }

    /// <summary>Counts primary changes; 0 until the first.</summary>
    public int Epoch { get; init; }

    /// <summary>When the last automatic failover happened.</summary>
    public DateTimeOffset? LastFailoverAt { get; init; }

    /// <summary>The previous primary, until it has rejoined.</summary>
    public string? FormerPrimary { get; init; }

    /// <summary>
    /// The primary's position when it was promoted. A former primary holding more than this has
    /// transactions the new primary never received: it is kept out instead of rejoining.
    /// </summary>
    public string PromotedAtPosition { get; init; } = "";

    private static readonly JsonSerializerOptions Json = new() { WriteIndented = true };

    /// <summary>Reads <paramref name="file"/>; null when it does not exist.</summary>
    /// <exception cref="InvalidDataException">The file is not a cluster state; the message says how to recover.</exception>
    public static ClusterState? Load(string file)
    {
        if (!File.Exists(file))
        {
            return null;
        }
        try
        {
            return JsonSerializer.Deserialize<ClusterState>(File.ReadAllText(file))
                ?? throw new JsonException("empty");
        }
        catch (JsonException e)
        {
            throw new InvalidDataException($"{file} is not a cluster state ({e.Message}); if you know which server is the primary, write {{\"Primary\": \"NAME\"}} into it", e);
        }
    }

    /// <summary>Writes atomically (temporary file, then rename).</summary>
    public void Save(string file)
    {
        Directory.CreateDirectory(Path.GetDirectoryName(Path.GetFullPath(file))!);
        var temporary = file + ".tmp";
        File.WriteAllText(temporary, JsonSerializer.Serialize(this, Json));
        File.Move(temporary, file, overwrite: true);
    }
}
