namespace AuthenticatedHttp.AotTests;

/// <summary>A check that did not hold; its message says what was expected and what was seen.</summary>
internal sealed class CheckFailedException(string message) : Exception(message);

/// <summary>Prints each check that holds and throws <see cref="CheckFailedException"/> at the first that does not.</summary>
internal static class Check
{
    public static void That(bool condition, string what, string seen)
    {
        if (!condition)
        {
            throw new CheckFailedException($"{what} (seen: {seen})");
        }

        Console.WriteLine($"  ok  {what} ({seen})");
    }

    public static void Equal<T>(T expected, T actual, string what)
    {
        if (!EqualityComparer<T>.Default.Equals(expected, actual))
        {
            throw new CheckFailedException($"{what}: expected {expected}, seen {actual}");
        }

        Console.WriteLine($"  ok  {what} ({actual})");
    }

    public static void Step(string title) => Console.WriteLine(title);

    public static void Info(string text) => Console.WriteLine($"      {text}");
}
