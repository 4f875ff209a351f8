//! The agent's UDP ports: one reader per socket fills a bounded queue
//! (full: the datagram is dropped, as Go's does), `workers` tasks decode
//! and hand on. Nothing is ever answered; failures are logged as Go logs
//! them (`Processor failed`).

use crate::Sink;
use crate::config::UdpConfig;
use ferrotel_core::consumer::ClientInfo;
use ferrotel_jaeger::{Protocol, agent_datagram, thrift_to_traces};
use std::sync::Arc;
use tokio::net::UdpSocket;
use tokio::sync::{mpsc, watch};
use tokio::task::JoinHandle;

pub(crate) struct UdpServer {
    stop: watch::Sender<bool>,
    tasks: Vec<JoinHandle<()>>,
}

impl UdpServer {
    pub(crate) async fn start(
        cfg: &UdpConfig,
        protocol: Protocol,
        sink: Sink,
    ) -> Result<UdpServer, std::io::Error> {
        let listen_error = |e: std::io::Error| {
            std::io::Error::new(e.kind(), format!("listen udp {}: {e}", cfg.endpoint))
        };
        // Go resolves the endpoint IPv4 first (`net.ResolveUDPAddr`).
        let addrs: Vec<std::net::SocketAddr> = tokio::net::lookup_host(&cfg.endpoint)
            .await
            .map_err(listen_error)?
            .collect();
        let addr = addrs
            .iter()
            .find(|a| a.is_ipv4())
            .or_else(|| addrs.first())
            .copied()
            .ok_or_else(|| listen_error(std::io::Error::other("no address found")))?;
        let socket = UdpSocket::bind(addr).await.map_err(listen_error)?;
        if cfg.socket_buffer_size > 0 {
            socket2::SockRef::from(&socket)
                .set_recv_buffer_size(cfg.socket_buffer_size)
                .map_err(listen_error)?;
        }
        tracing::info!(endpoint = %cfg.endpoint, "Starting UDP server");
        let (stop, stopped) = watch::channel(false);
        let (queue, datagrams) = mpsc::channel::<Vec<u8>>(cfg.queue_size.max(1));
        let datagrams = Arc::new(tokio::sync::Mutex::new(datagrams));
        let max = (cfg.max_packet_size.0 as usize).max(1);
        let mut tasks = Vec::new();
        let mut reader_stop = stopped;
        tasks.push(tokio::spawn(async move {
            let mut buf = vec![0u8; max];
            loop {
                tokio::select! {
                    _ = reader_stop.changed() => return,
                    got = socket.recv_from(&mut buf) => match got {
                        Ok((n, _)) => {
                            if queue.try_send(buf[..n].to_vec()).is_err() {
                                tracing::debug!("UDP queue full; datagram dropped");
                            }
                        }
                        Err(e) => tracing::warn!(error = %e, "UDP read failed"),
                    },
                }
            }
        }));
        for _ in 0..cfg.workers.max(1) {
            let datagrams = datagrams.clone();
            let sink = sink.clone();
            tasks.push(tokio::spawn(async move {
                // Until the reader stops and the queue is drained: what was
                // taken in before shutdown is still handed on.
                loop {
                    let next = datagrams.lock().await.recv().await;
                    let Some(datagram) = next else { return };
                    match agent_datagram(&datagram, protocol) {
                        Ok(batch) => {
                            let spans = thrift_to_traces(batch);
                            if let Err(e) = sink.push(spans, Arc::new(ClientInfo::default())).await
                            {
                                tracing::error!(error = %e, "Processor failed");
                            }
                        }
                        Err(e) => tracing::error!(error = %e, "Processor failed"),
                    }
                }
            }));
        }
        Ok(UdpServer { stop, tasks })
    }

    pub(crate) async fn shutdown(self) {
        let _ = self.stop.send(true);
        for t in self.tasks {
            let _ = t.await;
        }
    }
}
