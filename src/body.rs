//! Reading a request body within a size limit, as it arrives.
//!
//! hyper hands a body over as slices of the connection's read buffer. Keeping those slices
//! (as `axum::body::to_bytes` does until the body is whole) keeps the buffer blocks they were
//! cut from: a body dribbled a byte at a time pinned kilobytes per byte, and a hundred such
//! connections took 600 MiB. Each chunk is copied out and dropped instead, so a body being
//! read holds no more than its own bytes.

use axum::body::{Body, Bytes};
use http_body_util::BodyExt;

/// Why a body could not be read.
#[derive(Debug, thiserror::Error)]
pub enum BodyError {
    /// More than the limit arrived.
    #[error("the body is larger than {0} bytes")]
    TooLarge(usize),
    /// The connection failed or closed mid-body.
    #[error("the request body could not be read: {0}")]
    Failed(axum::Error),
}

/// The whole body, at most `limit` bytes.
pub async fn read_within(body: Body, limit: usize) -> Result<Bytes, BodyError> {
    let mut body = body;
    let mut bytes = Vec::new();
    while let Some(frame) = body.frame().await {
        let frame = frame.map_err(BodyError::Failed)?;
        // Trailers carry nothing the protocol reads.
        let Ok(data) = frame.into_data() else {
            continue;
        };
        if bytes.len() + data.len() > limit {
            return Err(BodyError::TooLarge(limit));
        }
        bytes.extend_from_slice(&data);
    }
    Ok(Bytes::from(bytes))
}

#[cfg(test)]
mod tests {
    use std::pin::Pin;
    use std::sync::Arc;
    use std::sync::atomic::{AtomicBool, Ordering};
    use std::task::{Context, Poll};

    use super::*;

    #[tokio::test]
    async fn a_body_within_the_limit_is_read_whole_and_one_past_it_is_too_large() {
        let body = || Body::from("0123456789");
        assert_eq!(read_within(body(), 10).await.unwrap(), "0123456789");
        assert!(matches!(
            read_within(body(), 9).await,
            Err(BodyError::TooLarge(9))
        ));
    }

    /// A body that arrives in the given chunks, one per poll.
    struct Chunks(std::collections::VecDeque<Bytes>);

    impl http_body::Body for Chunks {
        type Data = Bytes;
        type Error = std::convert::Infallible;

        fn poll_frame(
            mut self: Pin<&mut Self>,
            _: &mut Context<'_>,
        ) -> Poll<Option<Result<http_body::Frame<Bytes>, Self::Error>>> {
            Poll::Ready(self.0.pop_front().map(|b| Ok(http_body::Frame::data(b))))
        }
    }

    /// A body cut a byte at a time from one buffer, as hyper cuts from its read buffer, that
    /// notes whether a chunk it handed out earlier was still held when it cut the next.
    struct Dribble {
        buffer: Bytes,
        at: usize,
        earlier_chunk_held: Arc<AtomicBool>,
    }

    impl http_body::Body for Dribble {
        type Data = Bytes;
        type Error = std::convert::Infallible;

        fn poll_frame(
            mut self: Pin<&mut Self>,
            _: &mut Context<'_>,
        ) -> Poll<Option<Result<http_body::Frame<Bytes>, Self::Error>>> {
            let this = &mut *self;
            if this.at > 0 && !this.buffer.is_unique() {
                this.earlier_chunk_held.store(true, Ordering::Relaxed);
            }
            if this.at == this.buffer.len() {
                return Poll::Ready(None);
            }
            let chunk = this.buffer.slice(this.at..this.at + 1);
            this.at += 1;
            Poll::Ready(Some(Ok(http_body::Frame::data(chunk))))
        }
    }

    #[tokio::test]
    async fn a_body_arriving_a_byte_at_a_time_holds_none_of_the_buffer_it_was_cut_from() {
        let held = Arc::new(AtomicBool::new(false));
        let body = Body::new(Dribble {
            buffer: Bytes::from(vec![b'x'; 512]),
            at: 0,
            earlier_chunk_held: held.clone(),
        });
        assert_eq!(read_within(body, 1024).await.unwrap().len(), 512);
        assert!(
            !held.load(Ordering::Relaxed),
            "an earlier chunk was still held while the body was read: a dribbled body would \
             pin the connection's read buffer"
        );
    }

    #[tokio::test]
    async fn a_body_in_many_chunks_is_joined_in_order_and_judged_on_their_sum() {
        let chunks = || Chunks((0..100).map(|i| Bytes::from(format!("{i},"))).collect());
        let expected: String = (0..100).map(|i| format!("{i},")).collect();
        let read = read_within(Body::new(chunks()), expected.len()).await;
        assert_eq!(read.unwrap(), expected.as_bytes());
        let read = read_within(Body::new(chunks()), expected.len() - 1).await;
        assert!(matches!(read, Err(BodyError::TooLarge(_))));
    }
}
