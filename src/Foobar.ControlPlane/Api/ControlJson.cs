using System.Text.Json;
using System.Text.Json.Serialization;

namespace Foobar.ControlPlane.Api;

/// <summary>JSON settings shared by the control API, its client and <c>status --json</c>.</summary>
public static class ControlJson
{
    /// <summary>camelCase, enums as strings, indented for people reading <c>--json</c>.</summary>
    public static JsonSerializerOptions Options { get; } = new(JsonSerializerDefaults.Web)
    {
        WriteIndented = true,
        Converters = { new JsonStringEnumConverter(JsonNamingPolicy.CamelCase) },
    };
}
