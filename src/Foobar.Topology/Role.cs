namespace Foobar.Topology;

/// <summary>What a server does. A server has one or more roles.</summary>
public enum Role
{
    /// <summary>Answers DNS queries for the domain.</summary>
    Dns,
    /// <summary>HTTP load balancer in front of the web servers; holds the public address.</summary>
    Lb,
    /// <summary>Serves static files and forwards dynamic requests to the app servers.</summary>
    Web,
    /// <summary>Runs the application.</summary>
    App,
    /// <summary>Database server (MariaDB).</summary>
    Db,
}

/// <summary>Names of roles as written in a topology file.</summary>
public static class RoleNames
{
    /// <summary>Every role, in request-path order.</summary>
    public static IReadOnlyList<Role> All { get; } = [Role.Dns, Role.Lb, Role.Web, Role.App, Role.Db];

    /// <summary>The lower-case name used in YAML and on the command line.</summary>
    public static string Name(this Role role) => role.ToString().ToLowerInvariant();

    /// <summary>Parses a role name; case-sensitive as YAML keys are.</summary>
    public static bool TryParse(string text, out Role role)
    {
        foreach (var candidate in All)
        {
            if (candidate.Name() == text)
            {
                role = candidate;
                return true;
            }
        }
        role = default;
        return false;
    }
}
