namespace AuthenticatedHttp.StackExchangeRedis.Internal;

/// <summary>The package's Lua scripts: each runs atomically on the server.</summary>
internal static class RedisScripts
{
    /// <summary>
    /// Stores a token if the lease is still ours, or else if the entry it replaces is older (fencing: a holder whose
    /// lease expired and passed on must not overwrite a newer token); then wakes the fleet.
    /// KEYS: token, lease. ARGV: fencing value, entry, time to live (ms), obtained-at (Unix ms), channel, H.
    /// Returns 1 when stored, 0 when not.
    /// </summary>
    public const string Publish = """
        if redis.call('GET', KEYS[2]) ~= ARGV[1] then
          local current = redis.call('GET', KEYS[1])
          if current then
            local separator = string.find(current, ':', 1, true)
            local obtained = separator and tonumber(string.sub(current, 1, separator - 1))
            if obtained and obtained >= tonumber(ARGV[4]) then
              return 0
            end
          end
        end
        redis.call('SET', KEYS[1], ARGV[2], 'PX', ARGV[3])
        redis.call('PUBLISH', ARGV[5], ARGV[6])
        return 1
        """;

    /// <summary>Deletes the lease only if it still holds our fencing value. KEYS: lease. ARGV: fencing value.</summary>
    public const string Release = """
        if redis.call('GET', KEYS[1]) == ARGV[1] then
          return redis.call('DEL', KEYS[1])
        end
        return 0
        """;
}
