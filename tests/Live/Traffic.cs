using System.Net;
using System.Net.Sockets;

namespace ConnTrack.Live.Tests;

/// <summary>What a traffic run did, to check the records against.</summary>
internal sealed record TrafficResult(
    int TcpServerPort, int TcpClientPort, int TcpOrigBytes, int TcpRespBytes,
    int ClosedPort, int RejectedClientPort,
    int UdpServerPort, int UdpClientPort, int UdpOrigBytes, int UdpRespBytes);

/// <summary>
/// Makes real traffic on 127.0.0.1: one TCP connection accepted, data both ways, closed by both sides; one TCP
/// connect to a closed port (refused); one UDP request and response. The ports are reserved first so a capture
/// filter can be built before any packet is sent.
/// </summary>
internal sealed class Traffic : IDisposable
{
    public const int TcpOrigBytes = 1000;
    public const int TcpRespBytes = 2500;
    public const int UdpOrigBytes = 10;
    public const int UdpRespBytes = 20;

    private readonly TcpListener _listener;
    private readonly UdpClient _udpServer;

    public Traffic()
    {
        _listener = new TcpListener(IPAddress.Loopback, 0);
        _listener.Start();
        TcpServerPort = ((IPEndPoint)_listener.LocalEndpoint).Port;

        // A port nobody listens on: bind, read the number, close.
        var probe = new TcpListener(IPAddress.Loopback, 0);
        probe.Start();
        ClosedPort = ((IPEndPoint)probe.LocalEndpoint).Port;
        probe.Stop();

        _udpServer = new UdpClient(new IPEndPoint(IPAddress.Loopback, 0));
        UdpServerPort = ((IPEndPoint)_udpServer.Client.LocalEndPoint!).Port;
    }

    public int TcpServerPort { get; }
    public int ClosedPort { get; }
    public int UdpServerPort { get; }

    /// <summary>A BPF filter that keeps exactly this traffic.</summary>
    public string Filter => $"host 127.0.0.1 and (tcp port {TcpServerPort} or tcp port {ClosedPort} or udp port {UdpServerPort})";

    public async Task<TrafficResult> RunAsync()
    {
        // TCP: accepted, both sides send, the client half-closes, the server reads to the end and closes.
        var acceptTask = _listener.AcceptTcpClientAsync();
        using var client = new TcpClient(AddressFamily.InterNetwork);
        await client.ConnectAsync(IPAddress.Loopback, TcpServerPort);
        int tcpClientPort = ((IPEndPoint)client.Client.LocalEndPoint!).Port;
        using (var server = await acceptTask)
        {
            var serverStream = server.GetStream();
            var clientStream = client.GetStream();
            await clientStream.WriteAsync(Pattern(TcpOrigBytes, 1));
            await ReadExactlyAsync(serverStream, TcpOrigBytes);
            await serverStream.WriteAsync(Pattern(TcpRespBytes, 2));
            await ReadExactlyAsync(clientStream, TcpRespBytes);
            client.Client.Shutdown(SocketShutdown.Send);
            var rest = new byte[16];
            if (await serverStream.ReadAsync(rest) != 0)
                throw new InvalidOperationException("the client sent more than expected");
            server.Client.Shutdown(SocketShutdown.Send);
            if (await clientStream.ReadAsync(rest) != 0)
                throw new InvalidOperationException("the server sent more than expected");
        }
        client.Close();

        // TCP to a closed port: refused with a RST.
        int rejectedClientPort = 0;
        using (var refused = new Socket(AddressFamily.InterNetwork, SocketType.Stream, ProtocolType.Tcp))
        {
            refused.Bind(new IPEndPoint(IPAddress.Loopback, 0));
            rejectedClientPort = ((IPEndPoint)refused.LocalEndPoint!).Port;
            try
            {
                await refused.ConnectAsync(IPAddress.Loopback, ClosedPort);
                throw new InvalidOperationException($"port {ClosedPort} unexpectedly accepted");
            }
            catch (SocketException ex) when (ex.SocketErrorCode == SocketError.ConnectionRefused)
            {
            }
        }

        // UDP: one request, one response.
        using var udpClient = new UdpClient(new IPEndPoint(IPAddress.Loopback, 0));
        int udpClientPort = ((IPEndPoint)udpClient.Client.LocalEndPoint!).Port;
        await udpClient.SendAsync(Pattern(UdpOrigBytes, 3), new IPEndPoint(IPAddress.Loopback, UdpServerPort));
        var request = await _udpServer.ReceiveAsync();
        await _udpServer.SendAsync(Pattern(UdpRespBytes, 4), request.RemoteEndPoint);
        var response = await udpClient.ReceiveAsync();
        if (request.Buffer.Length != UdpOrigBytes || response.Buffer.Length != UdpRespBytes)
            throw new InvalidOperationException("UDP exchange lost bytes");

        return new TrafficResult(TcpServerPort, tcpClientPort, TcpOrigBytes, TcpRespBytes, ClosedPort, rejectedClientPort,
            UdpServerPort, udpClientPort, UdpOrigBytes, UdpRespBytes);
    }

    public static byte[] Pattern(int length, int seed)
    {
        var b = new byte[length];
        for (int i = 0; i < length; i++)
            b[i] = (byte)(i * 7 + seed);
        return b;
    }

    private static async Task ReadExactlyAsync(NetworkStream stream, int count)
    {
        var buffer = new byte[count];
        await stream.ReadExactlyAsync(buffer);
    }

    public void Dispose()
    {
        _listener.Stop();
        _udpServer.Dispose();
    }
}
