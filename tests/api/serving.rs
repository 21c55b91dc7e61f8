//! The real server on a socket: requests in flight finish when it is asked to stop.

use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::{TcpListener, TcpStream};

use crate::harness::{PASSWORD, TestApp};

#[tokio::test]
async fn a_request_in_flight_finishes_when_the_server_shuts_down() {
    let app = TestApp::new().await;
    let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    let (stop, stopped) = tokio::sync::oneshot::channel::<()>();
    let server = tokio::spawn(cdconcerns::startup::serve_until(
        app.state.clone(),
        listener,
        async {
            let _ = stopped.await;
        },
    ));

    // A sign-in takes a while: the password is checked with Argon2id.
    let email = app.world.user("reporter").email.clone();
    let body = format!(
        "email={}&password={}",
        email.replace('@', "%40"),
        PASSWORD.replace(' ', "+")
    );
    let request = format!(
        "POST /sign-in HTTP/1.1\r\nHost: {addr}\r\nContent-Type: application/x-www-form-urlencoded\r\n\
         Content-Length: {}\r\nConnection: close\r\n\r\n{body}",
        body.len()
    );
    let mut stream = TcpStream::connect(addr).await.unwrap();
    stream.write_all(request.as_bytes()).await.unwrap();
    tokio::time::sleep(std::time::Duration::from_millis(5)).await;
    stop.send(()).unwrap();

    let mut response = String::new();
    stream.read_to_string(&mut response).await.unwrap();
    assert!(response.starts_with("HTTP/1.1 303"), "{response}");
    server.await.unwrap().unwrap();
    // And it no longer accepts connections.
    assert!(TcpStream::connect(addr).await.is_err());
}
