using System.Globalization;
using Microsoft.Extensions.Configuration;

namespace StorageCloud.Common.Configuration;

/// <summary>Typed, range-checked reads of configuration values that fail with one clear line.</summary>
public static class ConfigValues
{
    /// <summary>An integer option within [min, max], or <paramref name="fallback"/> when unset.</summary>
    public static long GetInt64(IConfiguration config, string key, long fallback, long min, long max)
    {
        var raw = config[key];
        if (string.IsNullOrWhiteSpace(raw)) return fallback;
        if (!long.TryParse(raw.Trim(), NumberStyles.Integer, CultureInfo.InvariantCulture, out var value) || value < min || value > max)
            throw new ConfigurationException(key, $"must be an integer from {min} to {max} (got '{raw}')");
        return value;
    }

    /// <summary>An int option within [min, max], or <paramref name="fallback"/> when unset.</summary>
    public static int GetInt32(IConfiguration config, string key, int fallback, int min, int max)
        => (int)GetInt64(config, key, fallback, min, max);

    /// <summary>A boolean option (true/false/yes/no/on/off/1/0), or <paramref name="fallback"/> when unset.</summary>
    public static bool GetBool(IConfiguration config, string key, bool fallback)
    {
        var raw = config[key];
        if (string.IsNullOrWhiteSpace(raw)) return fallback;
        return raw.Trim().ToLowerInvariant() switch
        {
            "true" or "yes" or "on" or "1" => true,
            "false" or "no" or "off" or "0" => false,
            _ => throw new ConfigurationException(key, $"must be true or false (got '{raw}')"),
        };
    }

    /// <summary>A string option, or <paramref name="fallback"/> when unset.</summary>
    public static string GetString(IConfiguration config, string key, string fallback)
    {
        var raw = config[key];
        return string.IsNullOrWhiteSpace(raw) ? fallback : raw.Trim();
    }

    /// <summary>A string option restricted to <paramref name="allowed"/> (case-insensitive), returned lowercased.</summary>
    public static string GetChoice(IConfiguration config, string key, string fallback, params string[] allowed)
    {
        var value = GetString(config, key, fallback).ToLowerInvariant();
        if (Array.IndexOf(allowed, value) < 0)
            throw new ConfigurationException(key, $"must be one of {string.Join(", ", allowed)} (got '{config[key]}')");
        return value;
    }

    /// <summary>A comma-separated list option, or <paramref name="fallback"/> when unset.</summary>
    public static IReadOnlyList<string> GetList(IConfiguration config, string key, IReadOnlyList<string> fallback)
    {
        var raw = config[key];
        if (raw is null)
        {
            // Arrays in JSON arrive as Key:0, Key:1, ...
            var children = config.GetSection(key).GetChildren().Select(c => c.Value ?? "").Where(v => v.Length > 0).ToList();
            return children.Count > 0 ? children : fallback;
        }
        return raw.Split(',', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries);
    }
}
