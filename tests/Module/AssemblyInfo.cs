global using Xunit;
global using ConnTrack.PwshHost;
